/**
 * rnn-wasm: recurrent neural networks (RNN, LSTM, GRU) in WebAssembly SIMD with PyTorch's semantics.
 *
 * ```ts
 * import { init, LSTM } from 'rnn-wasm';
 * await init();
 * const lstm = new LSTM({ inputSize: 8, hiddenSize: 32 });
 * const { output, hN, cN } = lstm.forward({ data: x, shape: [T, B, 8] });
 * lstm.dispose();
 * ```
 * @module
 */
export { init, getEngine, isInitialized, detectFeatures, threadingInfo, Engine } from './runtime/engine.js';
export type { InitOptions, Features, SimdFlavour, WasmSource, ThreadingInfo } from './runtime/engine.js';
export type { AllocatorStats } from './runtime/allocator.js';
export { WasmOwner } from './runtime/owner.js';
export { Tensor } from './tensor.js';
export type { TensorLike, NumericArray } from './tensor.js';
export {
  RnnWasmError, InvalidArgumentError, ShapeError, DisposedError, NotInitializedError, InitError, StateDictError,
  OutOfMemoryError, UnsupportedError, WorkerError,
} from './errors.js';
export type { ErrorCode } from './errors.js';
export { RecurrentLayer, RNN, LSTM, GRU } from './nn/recurrent.js';
export { Linear } from './nn/linear.js';
export { SequenceModel, topStateFeatures, spreadTopState } from './nn/sequence-model.js';
export type { SequenceModelOptions, HeadInput } from './nn/sequence-model.js';
export type { LinearOptions } from './nn/linear.js';
export type {
  CellMode, RecurrentOptions, RNNOptions, LSTMOptions, GRUOptions, ForwardOptions, ForwardResult, ParamInfo,
  BackwardResult,
} from './nn/recurrent.js';
export { Session } from './nn/session.js';
export type { SessionOptions, SessionState, StepOptions, StepInput } from './nn/session.js';
export { Random } from './nn/random.js';
export { readSafetensors, writeSafetensors, SafetensorsError } from './io/safetensors.js';
export type { SafetensorsDtype, SafetensorsTensor, SafetensorsFile } from './io/safetensors.js';
export { normalizeStateDict } from './io/state-dict.js';
export { saveModel, loadModel, architectureOf } from './io/model-file.js';
export type { Architecture } from './io/model-file.js';
export type { StateDictInput, StateDictValue, StateDictEntry } from './io/state-dict.js';
export type { Parameter } from './train/parameter.js';
export { Optimizer, SGD, Adam, AdamW } from './train/optimizers.js';
export type { SGDOptions, AdamOptions, OptimizerStateDict, ParamState } from './train/optimizers.js';
export { clipGradNorm, clipGradValue, gradNorm, hasNonfiniteGrad } from './train/clip.js';
export type { ClipGradNormOptions } from './train/clip.js';
export { LRScheduler, StepLR, CosineAnnealingLR } from './train/schedules.js';
export type { LrTarget, LRSchedulerStateDict, StepLROptions, CosineAnnealingLROptions } from './train/schedules.js';
export { mseLoss, crossEntropyLoss, lengthsMask } from './train/losses.js';
export type { Reduction, Mask, LossResult, MseLossOptions, CrossEntropyLossOptions } from './train/losses.js';
export { fit, evaluate, NonFiniteError } from './train/fit.js';
export type { Dataset, FitOptions, FitHistory, StepInfo, EpochInfo } from './train/fit.js';
export { importKeras, convertKeras, KerasModel } from './io/keras.js';
export type { KerasConversion, KerasWeightsInput, KerasHeadActivation } from './io/keras.js';
export { importOnnx, exportOnnx, OnnxError } from './io/onnx.js';
export type { OnnxImport, OnnxExportOptions, OnnxGraphNames } from './io/onnx.js';
