//===- ActivationStats.cpp - Matmul input statistics ----------------------===//

#include "sensq/Numeric/ActivationStats.h"

#include "sensq/Support/Safetensors.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>

using namespace sensq;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

namespace {

constexpr StringRef kFormatKey = "format";
constexpr StringRef kFormatName = "sensq-activation-stats";
constexpr StringRef kVersionKey = "version";
constexpr StringRef kVersion = "1";

constexpr StringRef kCountSuffix = "count";
constexpr StringRef kAbsSumSuffix = "abs_sum";
constexpr StringRef kSqSumSuffix = "sq_sum";
constexpr StringRef kGramSuffix = "gram";

/// Rows converted to double per Gram update, which bounds the temporary
/// block to kChunkRows * K doubles however many rows `add` receives.
constexpr int64_t kChunkRows = 256;

/// Relative tolerance for the symmetry of a stored Gram matrix and for the
/// agreement of its diagonal with sq_sum. Both are computed by different
/// summation orders, so they differ by rounding, far below this bound.
constexpr double kConsistencyTolerance = 1e-6;

Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

bool allFinite(llvm::ArrayRef<double> values) {
  return llvm::all_of(values, [](double v) { return std::isfinite(v); });
}

std::vector<double> divideByCount(llvm::ArrayRef<double> sums, int64_t count) {
  std::vector<double> means(sums.size(), 0.0);
  if (count <= 0)
    return means;
  for (size_t i = 0; i < sums.size(); ++i)
    means[i] = sums[i] / static_cast<double>(count);
  return means;
}

} // namespace

ActivationStats::ActivationStats(int64_t numChannels)
    : numChannels(std::max<int64_t>(numChannels, 0)),
      absSum(this->numChannels, 0.0), sqSum(this->numChannels, 0.0),
      gram(this->numChannels * this->numChannels, 0.0) {}

Expected<ActivationStats>
ActivationStats::fromSums(int64_t count, llvm::ArrayRef<double> absSum,
                          llvm::ArrayRef<double> sqSum,
                          llvm::ArrayRef<double> gram, StringRef name) {
  int64_t k = absSum.size();
  if (k < 1)
    return makeError(name + ": has no input channels; expected K >= 1");
  if (static_cast<int64_t>(sqSum.size()) != k)
    return makeError(llvm::formatv("{0}: sq_sum has {1} entries; expected "
                                   "{2} like abs_sum",
                                   name, sqSum.size(), k));
  if (static_cast<int64_t>(gram.size()) != k * k)
    return makeError(llvm::formatv("{0}: gram has {1} entries; expected "
                                   "{2} x {2}",
                                   name, gram.size(), k));
  if (count <= 0)
    return makeError(llvm::formatv("{0}: token count is {1}; expected a "
                                   "positive count",
                                   name, count));

  auto checkFiniteNonNegative = [&](llvm::ArrayRef<double> values,
                                    StringRef field) -> Error {
    for (size_t j = 0; j < values.size(); ++j) {
      if (!std::isfinite(values[j]))
        return makeError(llvm::formatv("{0}: {1}[{2}] is {3}; expected a "
                                       "finite value",
                                       name, field, j, values[j]));
      if (values[j] < 0)
        return makeError(llvm::formatv("{0}: {1}[{2}] is {3}; expected a "
                                       "non-negative sum",
                                       name, field, j, values[j]));
    }
    return Error::success();
  };
  if (Error err = checkFiniteNonNegative(absSum, "abs_sum"))
    return std::move(err);
  if (Error err = checkFiniteNonNegative(sqSum, "sq_sum"))
    return std::move(err);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < k; ++j)
      if (!std::isfinite(gram[i * k + j]))
        return makeError(llvm::formatv("{0}: gram[{1}][{2}] is {3}; expected "
                                       "a finite value",
                                       name, i, j, gram[i * k + j]));

  ActivationStats stats(k);
  stats.count = count;
  stats.absSum.assign(absSum.begin(), absSum.end());
  stats.sqSum.assign(sqSum.begin(), sqSum.end());

  for (int64_t j = 0; j < k; ++j) {
    double diagonal = gram[j * k + j];
    double bound = kConsistencyTolerance * std::max(sqSum[j], 1e-300);
    if (std::abs(diagonal - sqSum[j]) > bound)
      return makeError(llvm::formatv("{0}: gram[{1}][{1}] is {2} but "
                                     "sq_sum[{1}] is {3}; expected equal "
                                     "values",
                                     name, j, diagonal, sqSum[j]));
  }
  // By Cauchy-Schwarz |G_ij| <= sqrt(G_ii G_jj), which scales the tolerance.
  for (int64_t i = 0; i < k; ++i) {
    for (int64_t j = i + 1; j < k; ++j) {
      double upper = gram[i * k + j];
      double lower = gram[j * k + i];
      double scale = std::sqrt(gram[i * k + i] * gram[j * k + j]);
      if (std::abs(upper - lower) > kConsistencyTolerance * scale)
        return makeError(llvm::formatv("{0}: gram[{1}][{2}] is {3} but "
                                       "gram[{2}][{1}] is {4}; expected a "
                                       "symmetric matrix",
                                       name, i, j, upper, lower));
      double mean = 0.5 * (upper + lower);
      stats.gram[i * k + j] = mean;
      stats.gram[j * k + i] = mean;
    }
    stats.gram[i * k + i] = gram[i * k + i];
  }
  return stats;
}

void ActivationStats::add(const float *rows, int64_t numRows) {
  if (numRows <= 0 || numChannels == 0)
    return;
  using RowMajorMatrix =
      Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using ConstFloatMap =
      Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic,
                                     Eigen::RowMajor>>;
  Eigen::Map<Eigen::RowVectorXd> absSumMap(absSum.data(), numChannels);
  Eigen::Map<Eigen::RowVectorXd> sqSumMap(sqSum.data(), numChannels);
  // The Gram matrix is symmetric, so its row-major storage read as
  // column-major is the same matrix. Only the lower triangle of this view is
  // updated, which halves the work of the rank update.
  Eigen::Map<Eigen::MatrixXd> gramMap(gram.data(), numChannels, numChannels);

  RowMajorMatrix block;
  for (int64_t first = 0; first < numRows; first += kChunkRows) {
    int64_t chunk = std::min(kChunkRows, numRows - first);
    block = ConstFloatMap(rows + first * numChannels, chunk, numChannels)
                .cast<double>();
    absSumMap += block.cwiseAbs().colwise().sum();
    sqSumMap += block.cwiseAbs2().colwise().sum();
    // gram += block^T block, a rank-`chunk` update of the lower triangle.
    gramMap.selfadjointView<Eigen::Lower>().rankUpdate(block.transpose());
  }
  for (int64_t j = 0; j < numChannels; ++j)
    for (int64_t i = j + 1; i < numChannels; ++i)
      gramMap(j, i) = gramMap(i, j);
  count += numRows;
}

Error ActivationStats::merge(const ActivationStats &other) {
  if (other.numChannels != numChannels)
    return makeError(llvm::formatv("cannot merge activation statistics over "
                                   "{0} channels into statistics over {1} "
                                   "channels; expected equal channel counts",
                                   other.numChannels, numChannels));
  count += other.count;
  for (int64_t j = 0; j < numChannels; ++j) {
    absSum[j] += other.absSum[j];
    sqSum[j] += other.sqSum[j];
  }
  for (size_t i = 0; i < gram.size(); ++i)
    gram[i] += other.gram[i];
  return Error::success();
}

std::vector<double> ActivationStats::getMeanAbs() const {
  return divideByCount(absSum, count);
}

std::vector<double> ActivationStats::getMeanSquare() const {
  return divideByCount(sqSum, count);
}

std::vector<double> ActivationStats::getMeanGram() const {
  return divideByCount(gram, count);
}

bool ActivationStats::isFinite() const {
  return allFinite(absSum) && allFinite(sqSum) && allFinite(gram);
}

//===----------------------------------------------------------------------===//
// Statistics files
//===----------------------------------------------------------------------===//

namespace {

/// The four tensors of one layer, gathered while scanning a file.
struct LayerTensors {
  const safetensors::Tensor *count = nullptr;
  const safetensors::Tensor *absSum = nullptr;
  const safetensors::Tensor *sqSum = nullptr;
  const safetensors::Tensor *gram = nullptr;
};

std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  return "[" + llvm::join(llvm::map_range(shape, [](int64_t d) {
                            return std::to_string(d);
                          }),
                          ", ") +
         "]";
}

Error checkTensor(StringRef path, StringRef tensorName,
                  const safetensors::Tensor &tensor,
                  safetensors::DType expectedType,
                  llvm::ArrayRef<int64_t> expectedShape) {
  if (tensor.dtype != expectedType ||
      llvm::ArrayRef<int64_t>(tensor.shape) != expectedShape)
    return makeError(llvm::formatv(
        "{0}: tensor '{1}' is {2} {3}; expected {4} {5}", path, tensorName,
        safetensors::getDTypeName(tensor.dtype), formatShape(tensor.shape),
        safetensors::getDTypeName(expectedType), formatShape(expectedShape)));
  return Error::success();
}

Expected<ActivationStats> decodeLayer(StringRef path, StringRef layer,
                                      const LayerTensors &tensors) {
  std::string prefix = (path + ": layer '" + layer + "'").str();
  struct Required {
    const safetensors::Tensor *tensor;
    StringRef suffix;
  };
  for (const Required &required :
       {Required{tensors.count, kCountSuffix},
        Required{tensors.absSum, kAbsSumSuffix},
        Required{tensors.sqSum, kSqSumSuffix},
        Required{tensors.gram, kGramSuffix}})
    if (!required.tensor)
      return makeError(prefix + ": tensor '" + layer + "." +
                       required.suffix + "' is missing");

  using safetensors::DType;
  if (Error err = checkTensor(path, (layer + "." + kCountSuffix).str(),
                              *tensors.count, DType::I64, {1}))
    return std::move(err);
  if (tensors.absSum->dtype != DType::F64 || tensors.absSum->shape.size() != 1)
    return makeError(llvm::formatv(
        "{0}: tensor '{1}.{2}' is {3} {4}; expected F64 [K]", path, layer,
        kAbsSumSuffix, safetensors::getDTypeName(tensors.absSum->dtype),
        formatShape(tensors.absSum->shape)));
  int64_t k = tensors.absSum->shape[0];
  if (k < 1)
    return makeError(prefix + ": tensor '" + layer + "." + kAbsSumSuffix +
                     "' has no entries; expected K >= 1 channels");
  if (Error err = checkTensor(path, (layer + "." + kSqSumSuffix).str(),
                              *tensors.sqSum, DType::F64, {k}))
    return std::move(err);
  if (Error err = checkTensor(path, (layer + "." + kGramSuffix).str(),
                              *tensors.gram, DType::F64, {k, k}))
    return std::move(err);

  int64_t count = tensors.count->toI64()[0];
  return ActivationStats::fromSums(count, tensors.absSum->toF64(),
                                   tensors.sqSum->toF64(),
                                   tensors.gram->toF64(), prefix);
}

} // namespace

Expected<StatsMap> sensq::readStatsFile(StringRef path) {
  Expected<safetensors::File> file = safetensors::readFile(path);
  if (!file)
    return file.takeError();

  auto format = file->metadata.find(kFormatKey.str());
  if (format == file->metadata.end() || format->second != kFormatName)
    return makeError(path + ": metadata 'format' is " +
                     (format == file->metadata.end()
                          ? std::string("missing")
                          : "'" + format->second + "'") +
                     "; expected '" + kFormatName +
                     "', so this is not an activation statistics file");
  auto version = file->metadata.find(kVersionKey.str());
  if (version == file->metadata.end() || version->second != kVersion)
    return makeError(path + ": metadata 'version' is " +
                     (version == file->metadata.end()
                          ? std::string("missing")
                          : "'" + version->second + "'") +
                     "; expected '" + kVersion + "'");

  std::map<std::string, LayerTensors> layers;
  for (const auto &[tensorName, tensor] : file->tensors) {
    auto [layer, suffix] = StringRef(tensorName).rsplit('.');
    if (suffix == tensorName || layer.empty())
      suffix = "";
    LayerTensors &slots = layers[layer.str()];
    const safetensors::Tensor **slot = nullptr;
    if (suffix == kCountSuffix)
      slot = &slots.count;
    else if (suffix == kAbsSumSuffix)
      slot = &slots.absSum;
    else if (suffix == kSqSumSuffix)
      slot = &slots.sqSum;
    else if (suffix == kGramSuffix)
      slot = &slots.gram;
    if (!slot)
      return makeError(path + ": tensor '" + tensorName +
                       "' is not a statistics tensor; expected a name "
                       "ending in .count, .abs_sum, .sq_sum or .gram");
    *slot = &tensor;
  }

  StatsMap stats;
  for (const auto &[layer, tensors] : layers) {
    Expected<ActivationStats> decoded = decodeLayer(path, layer, tensors);
    if (!decoded)
      return decoded.takeError();
    stats.emplace(layer, std::move(*decoded));
  }
  return stats;
}

Error sensq::writeStatsFile(StringRef path, const StatsMap &stats) {
  safetensors::File file;
  file.metadata[kFormatKey.str()] = kFormatName.str();
  file.metadata[kVersionKey.str()] = kVersion.str();

  for (const auto &[layer, layerStats] : stats) {
    std::string prefix = (path + ": layer '" + layer + "'").str();
    if (layer.empty())
      return makeError(path + ": a layer has an empty name");
    int64_t k = layerStats.getNumChannels();
    if (k < 1)
      return makeError(prefix + " has no input channels; expected K >= 1");
    if (layerStats.getCount() <= 0)
      return makeError(prefix +
                       " has no tokens; expected at least one accumulated "
                       "row");
    if (!layerStats.isFinite())
      return makeError(prefix + " has NaN or infinite sums; the activations "
                                "it accumulated were not finite");

    file.tensors[layer + "." + kCountSuffix.str()] =
        safetensors::Tensor::fromI64({1}, {layerStats.getCount()});
    file.tensors[layer + "." + kAbsSumSuffix.str()] =
        safetensors::Tensor::fromF64({k}, layerStats.getAbsSum());
    file.tensors[layer + "." + kSqSumSuffix.str()] =
        safetensors::Tensor::fromF64({k}, layerStats.getSqSum());
    file.tensors[layer + "." + kGramSuffix.str()] =
        safetensors::Tensor::fromF64({k, k}, layerStats.getGram());
  }
  return safetensors::writeFile(path, file);
}

Error sensq::mergeStatsMaps(StatsMap &target, const StatsMap &source) {
  for (const auto &[layer, layerStats] : source) {
    auto existing = target.find(layer);
    if (existing != target.end() &&
        existing->second.getNumChannels() != layerStats.getNumChannels())
      return makeError(llvm::formatv(
          "layer '{0}' has {1} input channels in one statistics set and {2} "
          "in another; expected equal channel counts",
          layer, existing->second.getNumChannels(),
          layerStats.getNumChannels()));
  }
  for (const auto &[layer, layerStats] : source) {
    auto [it, inserted] = target.try_emplace(layer, layerStats);
    if (!inserted)
      llvm::cantFail(it->second.merge(layerStats));
  }
  return Error::success();
}

Expected<StatsMap> sensq::mergeStatsFiles(llvm::ArrayRef<std::string> paths) {
  StatsMap merged;
  for (auto [index, path] : llvm::enumerate(paths)) {
    Expected<StatsMap> stats = readStatsFile(path);
    if (!stats)
      return stats.takeError();

    // Calibration runs of one model cover the same layers. Files that differ
    // come from different models, and their union would mix them.
    if (index > 0) {
      for (const auto &[layer, layerStats] : merged)
        if (!stats->count(layer))
          return makeError(llvm::formatv(
              "{0}: no statistics for layer '{1}', which '{2}' has; expected "
              "files calibrated on the same model",
              path, layer, paths.front()));
      for (const auto &[layer, layerStats] : *stats)
        if (!merged.count(layer))
          return makeError(llvm::formatv(
              "{0}: statistics for layer '{1}', which '{2}' does not have; "
              "expected files calibrated on the same model",
              path, layer, paths.front()));
    }
    if (Error err = mergeStatsMaps(merged, *stats))
      return makeError(path + ": " + llvm::toString(std::move(err)));
  }
  return merged;
}
