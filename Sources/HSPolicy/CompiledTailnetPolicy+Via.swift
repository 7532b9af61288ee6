extension CompiledTailnetPolicy {
    /// Computes which routers each viewer must use for the routes that `via` grants steer, for
    /// the policy and tailnet this value was compiled from. Policies that allow all have no `via`
    /// grants and return ``ViaSteering/none``. Computed on each call.
    public func viaSteering() -> ViaSteering {
        guard let state else { return .none }
        return ViaSteering(policy: policy, tailnet: state.tailnet)
    }
}
