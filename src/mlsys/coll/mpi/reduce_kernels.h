// Element types and reduction operators of the MPI executor, and the element-wise kernels that
// combine a received block into a local one. No MPI here: the kernels are plain loops the
// compiler vectorises, tested on their own.
//
//   std::vector<float> acc = {1, 2, 3}, in = {4, 5, 6};
//   reduce_into(DataType::kF32, ReduceOp::kSum, acc.data(), in.data(), 3);  // acc = {5, 7, 9}
//   uint16_t h = float_to_bf16(1.00390625f);                                // ties to even: 1.0
#pragma once

#include <cstdint>
#include <string_view>

#include "mlsys/coll/reference_executor.h"  // ReduceOp, to_string(ReduceOp), parse_reduce_op
#include "mlsys/core/result.h"

namespace mlsys::coll {

/// Element types. kBF16 is stored as uint16 (the high half of an IEEE float); it is reduced in
/// float and rounded back to nearest, ties to even.
enum class DataType { kF32, kF64, kI32, kI64, kBF16 };

std::string_view to_string(DataType t);
/// "f32", "f64", "i32", "i64", "bf16" (also "float", "double", "int32", "int64", "bfloat16").
Result<DataType> parse_data_type(std::string_view text);
/// Bytes per element: 4, 8, 4, 8, 2.
int64_t element_size(DataType t);
/// Whether results are exact regardless of the reduction order (integers; and max/min always).
bool is_order_exact(DataType t, ReduceOp op);

/// inout[i] = inout[i] op in[i] for i < count. Integer sum/prod wrap modulo 2^bits, as MPI
/// libraries do. max/min keep `inout[i]` unless in[i] compares greater/less (as Open MPI does).
void reduce_into(DataType t, ReduceOp op, void* inout, const void* in, int64_t count);
/// out[i] = a[i] op b[i]; `out` may alias `a` or `b` exactly (not partially).
void reduce_to(DataType t, ReduceOp op, void* out, const void* a, const void* b, int64_t count);

/// bfloat16 conversions. float_to_bf16 rounds to nearest, ties to even; NaN stays a quiet NaN
/// with its sign; infinities and values beyond the bf16 range round to infinity.
uint16_t float_to_bf16(float f);
float bf16_to_float(uint16_t h);

}  // namespace mlsys::coll
