//===- ImportGGUF.h - GGUF Llama model to MLIR importer ---------*- C++ -*-===//
//
// Builds an MLIR module on tensors (func, linalg, tensor, arith and math
// dialects) that computes the forward pass of a Llama model read from a
// GGUF file:
//
//   func.func @forward(%tokens: tensor<Txi32>) -> tensor<TxVxf32>
//
// Row t of the result contains the logits of the token following tokens[t].
// Attention is causal, so tokens after position t do not change row t.
// Every projection is a linalg.matmul computing x * W^T with the weight W
// as a dense_resource constant keyed by its GGUF tensor name, and carries
// the attribute `sensq.weight` with that name.
//
//===----------------------------------------------------------------------===//

#ifndef SENSQ_TARGET_GGUF_IMPORTGGUF_H
#define SENSQ_TARGET_GGUF_IMPORTGGUF_H

#include "sensq/Target/GGUF/GGUFFile.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>

namespace sensq {

/// Options of importGGUF.
struct ImportOptions {
  /// Number of token positions T of @forward. Zero selects the model's
  /// context length (`llama.context_length`).
  int64_t seqLen = 0;
};

/// Name of the discardable attribute that marks each projection matmul with
/// the GGUF name of its weight tensor.
inline constexpr llvm::StringLiteral kWeightAttrName = "sensq.weight";
/// Names of the module attributes that describe the imported model.
inline constexpr llvm::StringLiteral kVocabSizeAttrName = "sensq.vocab_size";
inline constexpr llvm::StringLiteral kSeqLenAttrName = "sensq.seq_len";
inline constexpr llvm::StringLiteral kModelAttrName = "sensq.model";

/// Registers the dialects of the imported module.
void registerImportGGUFDialects(mlir::DialectRegistry &registry);

/// Imports the Llama model of `file` into a new module in `context`, loading
/// the dialects it needs. Fails with a one-line message naming the file and
/// the offending key, tensor or option when the model is not a supported
/// Llama model.
///
/// Weight blobs are registered in the context under their tensor names. The
/// context renames a blob whose name is already taken, so a second import of
/// the same model into one context yields keys with a numeric suffix.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importGGUF(const gguf::GGUFFile &file, mlir::MLIRContext *context,
           const ImportOptions &options);

} // namespace sensq

#endif // SENSQ_TARGET_GGUF_IMPORTGGUF_H
