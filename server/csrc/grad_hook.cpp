// Tensor gradient hooks for localndif (tch has no binding for `Tensor::register_hook`).
// `with loss.backward():` in nnsight parks intervention code on `.grad` requests that
// one-shot tensor hooks serve while autograd runs; this is the smallest shim that lets
// the Rust side do the same. The callback runs on the thread that called backward for
// CPU tensors (libtorch's engine runs CPU work on the caller).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <cstring>
#include <exception>
#include <stdexcept>

extern "C" {

// Called with the gradient flowing into the hooked tensor (ownership passes to the
// callee). Returns 0 and sets *out to a new tensor (ownership passes back) to replace
// the gradient, or leaves *out null to keep it; a non-zero return stops the backward
// pass with an error.
typedef int (*lndif_grad_fn)(uint64_t session, uint64_t key, at::Tensor* grad, at::Tensor** out);

// Registers a hook on `t`; returns its handle (>= 0), or -1 with *err set (free it with
// lndif_free_error).
int64_t lndif_register_grad_hook(at::Tensor* t, uint64_t session, uint64_t key, lndif_grad_fn f, char** err) {
  try {
    unsigned handle = t->register_hook([=](const at::Tensor& grad) -> at::Tensor {
      at::Tensor* out = nullptr;
      int status = f(session, key, new at::Tensor(grad), &out);
      if (status != 0) {
        throw std::runtime_error("localndif: the backward pass was stopped by intervention code");
      }
      if (out == nullptr) {
        return at::Tensor();  // undefined: the gradient flows on unchanged
      }
      at::Tensor r = *out;
      delete out;
      return r;
    });
    return static_cast<int64_t>(handle);
  } catch (const std::exception& e) {
    *err = strdup(e.what());
    return -1;
  }
}

void lndif_free_error(char* err) { free(err); }

}  // extern "C"
