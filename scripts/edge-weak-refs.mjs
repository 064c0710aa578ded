// Injected into the edge build (scripts/build-bundles.mjs): workerd has FinalizationRegistry and WeakRef only
// from compatibility date 2025-05-05. Where they are missing, the bundle's references to them get these
// stand-ins (the globals are not touched): no finalizer safety net (dispose() models as documented) and a strong
// reference (a model's sessions are then kept until the model is disposed).
class NoFinalizationRegistry {
  register() {}
  unregister() { return false; }
}
class StrongRef {
  #v;
  constructor(v) { this.#v = v; }
  deref() { return this.#v; }
}
const FR = typeof globalThis.FinalizationRegistry === 'function' ? globalThis.FinalizationRegistry : NoFinalizationRegistry;
const WR = typeof globalThis.WeakRef === 'function' ? globalThis.WeakRef : StrongRef;
export { FR as FinalizationRegistry, WR as WeakRef };
