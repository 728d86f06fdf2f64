use corosensei::{Coroutine, CoroutineResult, stack::DefaultStack};
#[test]
fn tch_in_coroutine() {
    let stack = DefaultStack::new(64 << 20).unwrap();
    let mut co = Coroutine::with_stack(stack, |y: &corosensei::Yielder<i32, i32>, _i: i32| {
        let a = tch::Tensor::randn([512, 512], (tch::Kind::Float, tch::Device::Cpu));
        let b = a.matmul(&a);
        let r = a.f_matmul(&tch::Tensor::ones([3, 3], (tch::Kind::Float, tch::Device::Cpu)));
        assert!(r.is_err());
        let s = b.sum(tch::Kind::Float).double_value(&[]);
        y.suspend(s as i32);
        let big = tch::Tensor::ones([2000, 2000], (tch::Kind::Float, tch::Device::Cpu));
        (big.sum(tch::Kind::Float).double_value(&[]) / 1000.0) as i32
    });
    match co.resume(0) { CoroutineResult::Yield(_) => {}, _ => panic!() }
    match co.resume(0) { CoroutineResult::Return(v) => assert_eq!(v, 4000), _ => panic!() }
}
