// Per-job accounting of CPU tensor memory for localndif's COMPLETED `max_memory_usage`:
// the peak of live tensor bytes a job held — activations the model computed while hooks
// waited, intermediates, the job's own values and its results — measured at the
// allocator, not estimated. libtorch has no per-thread CPU statistics, so this wraps the
// CPU allocator: every allocation is delegated to the allocator that was installed before
// (same addresses, same alignment, so kernels and their numbers do not change) and, when
// the allocating thread has a job's counter installed, counted against that counter until
// the memory is freed, on whatever thread and however late. The DataPtrs stay simple
// (context == data, one deleter), as libtorch's raw allocation interface requires. Threads without a counter
// (libtorch's intra-op pool, the HTTP runtime) are not counted.
#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace {

struct Counter {
  std::atomic<int64_t> live{0};
  std::atomic<int64_t> peak{0};

  void add(int64_t n) {
    int64_t now = live.fetch_add(n, std::memory_order_relaxed) + n;
    int64_t seen = peak.load(std::memory_order_relaxed);
    while (now > seen && !peak.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
    }
  }
};

thread_local std::shared_ptr<Counter> current;

// Counted allocations by address: their size and the counter they were charged to. The
// DataPtrs handed out stay "simple" (context == data, one deleter for all), as libtorch's
// raw interface (`raw_allocate` / `raw_deallocate`) requires of the CPU allocator.
struct Charge {
  std::shared_ptr<Counter> counter;
  int64_t bytes;
};
std::mutex charges_mutex;
std::unordered_map<void*, Charge>* charges = new std::unordered_map<void*, Charge>();  // never freed: outlives every tensor
c10::DeleterFnPtr delegate_deleter = nullptr;

void free_counted(void* ptr) {
  if (ptr != nullptr) {
    std::lock_guard<std::mutex> lock(charges_mutex);
    auto it = charges->find(ptr);
    if (it != charges->end()) {
      it->second.counter->live.fetch_sub(it->second.bytes, std::memory_order_relaxed);
      charges->erase(it);
    }
  }
  delegate_deleter(ptr);
}

struct Tracking final : c10::Allocator {
  c10::Allocator* delegate;
  explicit Tracking(c10::Allocator* d) : delegate(d) {}

  c10::DataPtr allocate(size_t n) override {
    c10::DataPtr inner = delegate->allocate(n);
    c10::Device device = inner.device();
    void* data = inner.release_context();  // simple: the context is the data
    std::shared_ptr<Counter> counter = current;
    if (counter && n > 0 && data != nullptr) {
      counter->add(static_cast<int64_t>(n));
      std::lock_guard<std::mutex> lock(charges_mutex);
      charges->emplace(data, Charge{std::move(counter), static_cast<int64_t>(n)});
    }
    return c10::DataPtr(data, data, &free_counted, device);
  }

  c10::DeleterFnPtr raw_deleter() const override {
    return &free_counted;
  }

  void copy_data(void* dest, const void* src, std::size_t count) const override {
    delegate->copy_data(dest, src, count);
  }
};

}  // namespace

extern "C" {

// Wraps the CPU allocator (once per process; later calls do nothing).
// Does nothing when the allocator in place has no raw deleter (its DataPtrs are not
// simple): then nothing is counted.
void lndif_mem_install() {
  static Tracking* tracking = []() -> Tracking* {
    c10::Allocator* delegate = c10::GetCPUAllocator();
    delegate_deleter = delegate->raw_deleter();
    if (delegate_deleter == nullptr) {
      return nullptr;
    }
    auto* t = new Tracking(delegate);
    c10::SetCPUAllocator(t, /*priority=*/100);
    return t;
  }();
  (void)tracking;
}

// Starts counting the calling thread's allocations against a fresh counter; returns an
// opaque handle for lndif_mem_end.
void* lndif_mem_begin() {
  auto counter = std::make_shared<Counter>();
  current = counter;
  return new std::shared_ptr<Counter>(std::move(counter));
}

// Bytes the counter's allocations hold now.
int64_t lndif_mem_live(void* handle) {
  return (*static_cast<std::shared_ptr<Counter>*>(handle))->live.load(std::memory_order_relaxed);
}

// Stops counting on the calling thread and returns the counter's peak of live bytes.
int64_t lndif_mem_end(void* handle) {
  auto* counter = static_cast<std::shared_ptr<Counter>*>(handle);
  if (current == *counter) {
    current.reset();
  }
  int64_t peak = (*counter)->peak.load(std::memory_order_relaxed);
  delete counter;
  return peak;
}

}  // extern "C"
