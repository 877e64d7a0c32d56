//===- CPUCodegenPipeline.cpp - The sensq-cpu-codegen pipeline ------------===//
//
// Lowers a module on tensors to the LLVM dialect for the host CPU:
//
//  1. tile and vectorize linalg ops on tensors;
//  2. bufferize with identity-layout memrefs at function boundaries (strided
//     layouts would keep the transfers from becoming plain vector loads),
//     turn returned buffers into caller-provided output buffers and free
//     every intermediate buffer before returning;
//  3. hoist vector transfers out of reduction loops, lower what was not
//     vectorized to scalar loops, lower n-D vectors to 1-D vectors;
//  4. convert everything to the LLVM dialect.
//
//===----------------------------------------------------------------------===//

#include "sensq/Pipelines/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void sensq::buildCPUCodegenPipeline(OpPassManager &pm,
                                    const CPUCodegenOptions &options) {
  // No CSE before bufferization: it would merge the tensor.empty ops of
  // same-shaped results into one, and bufferization would then allocate
  // and copy a buffer for every op writing into it.
  pm.addPass(createCanonicalizerPass());

  SensQTileAndVectorizeOptions tileOptions;
  tileOptions.vectorWidth = options.vectorWidth;
  tileOptions.mTile = options.mTile;
  tileOptions.reductionTile = options.reductionTile;
  tileOptions.vectorize = options.vectorize;
  pm.addNestedPass<func::FuncOp>(createSensQTileAndVectorize(tileOptions));
  pm.addPass(createCanonicalizerPass());

  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  pm.addPass(bufferization::createEmptyTensorToAllocTensorPass());
  bufferization::OneShotBufferizePassOptions bufferizeOptions;
  bufferizeOptions.bufferizeFunctionBoundaries = true;
  bufferizeOptions.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferizeOptions));
  // Drops the memref iter_args left by tiling loops, so that a returned
  // buffer is the alloc itself and becomes the output parameter.
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(createSensQDistinctResultBuffers());
  bufferization::BufferResultsToOutParamsPassOptions outParamsOptions;
  outParamsOptions.hoistStaticAllocs = true;
  outParamsOptions.modifyPublicFunctions = true;
  pm.addPass(
      bufferization::createBufferResultsToOutParamsPass(outParamsOptions));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  pm.addNestedPass<func::FuncOp>(createSensQOptimizeVectorTransfers());
  pm.addNestedPass<func::FuncOp>(bufferization::createBufferLoopHoistingPass());
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());

  SensQLowerVectorsOptions lowerOptions;
  lowerOptions.approximateMath = options.approximateMath;
  pm.addNestedPass<func::FuncOp>(createSensQLowerVectors(lowerOptions));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  // Sums of vector lanes may be reassociated into a tree of adds; the
  // vectorized code already sums in a different order than scalar loops.
  ConvertVectorToLLVMPassOptions vectorOptions;
  vectorOptions.reassociateFPReductions = true;
  pm.addPass(createConvertVectorToLLVMPass(vectorOptions));
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  FinalizeMemRefToLLVMConversionPassOptions memrefOptions;
  memrefOptions.useGenericFunctions = options.genericAllocFunctions;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memrefOptions));
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void sensq::registerCPUCodegenPipeline() {
  registerSensQPipelinesPasses();
  PassPipelineRegistration<CPUCodegenOptions>(
      "sensq-cpu-codegen",
      "Lower a tensor-level module (linalg, tensor, arith, math, func) to the "
      "LLVM dialect with tiling and vectorization for the host CPU",
      buildCPUCodegenPipeline);
}
