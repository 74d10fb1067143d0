// The element-wise kernels of the MPI executor, checked against scalar references: every type
// and operator, aliasing forms, integer wrap-around, and bf16 rounding (ties to even, NaN, inf).

#include "mlsys/coll/mpi/reduce_kernels.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace mlsys::coll {
namespace {

TEST(ReduceKernels, SumsFloatVectors) {
  std::vector<float> acc = {1.0f, 2.0f, -3.5f};
  const std::vector<float> in = {4.0f, 0.25f, 3.5f};
  reduce_into(DataType::kF32, ReduceOp::kSum, acc.data(), in.data(), 3);
  EXPECT_EQ(acc, (std::vector<float>{5.0f, 2.25f, 0.0f}));
}

TEST(ReduceKernels, MaxAndMinOfDoubles) {
  const std::vector<double> a = {1.0, -2.0, 7.0};
  const std::vector<double> b = {3.0, -5.0, 7.0};
  std::vector<double> mx(3);
  std::vector<double> mn(3);
  reduce_to(DataType::kF64, ReduceOp::kMax, mx.data(), a.data(), b.data(), 3);
  reduce_to(DataType::kF64, ReduceOp::kMin, mn.data(), a.data(), b.data(), 3);
  EXPECT_EQ(mx, (std::vector<double>{3.0, -2.0, 7.0}));
  EXPECT_EQ(mn, (std::vector<double>{1.0, -5.0, 7.0}));
}

TEST(ReduceKernels, ProductOfInt64) {
  std::vector<int64_t> acc = {3, -2, int64_t{1} << 40};
  const std::vector<int64_t> in = {5, 7, 4};
  reduce_into(DataType::kI64, ReduceOp::kProd, acc.data(), in.data(), 3);
  EXPECT_EQ(acc, (std::vector<int64_t>{15, -14, int64_t{1} << 42}));
}

TEST(ReduceKernels, Int32SumWrapsLikeTwosComplement) {
  std::vector<int32_t> acc = {std::numeric_limits<int32_t>::max()};
  const std::vector<int32_t> in = {1};
  reduce_into(DataType::kI32, ReduceOp::kSum, acc.data(), in.data(), 1);
  EXPECT_EQ(acc[0], std::numeric_limits<int32_t>::min());
}

TEST(ReduceKernels, LongVectorMatchesScalarLoop) {
  // Long enough for the vectorised body plus a remainder.
  const int64_t n = 1037;
  std::vector<int32_t> a(static_cast<size_t>(n));
  std::vector<int32_t> b(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    a[static_cast<size_t>(i)] = static_cast<int32_t>((i * 7919) % 2001 - 1000);
    b[static_cast<size_t>(i)] = static_cast<int32_t>((i * 104729) % 1999 - 999);
  }
  for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kMax, ReduceOp::kMin, ReduceOp::kProd}) {
    std::vector<int32_t> out(static_cast<size_t>(n));
    reduce_to(DataType::kI32, op, out.data(), a.data(), b.data(), n);
    for (size_t i = 0; i < out.size(); ++i) {
      const int32_t x = a[i];
      const int32_t y = b[i];
      const int32_t want = op == ReduceOp::kSum   ? x + y
                           : op == ReduceOp::kMax ? std::max(x, y)
                           : op == ReduceOp::kMin ? std::min(x, y)
                                                  : x * y;
      ASSERT_EQ(out[i], want) << to_string(op) << " at " << i;
    }
  }
}

TEST(ReduceKernels, OutputMayAliasEitherInput) {
  const std::vector<float> a = {1.0f, 8.0f};
  const std::vector<float> b = {2.0f, 3.0f};
  std::vector<float> left = a;
  reduce_to(DataType::kF32, ReduceOp::kMax, left.data(), left.data(), b.data(), 2);
  std::vector<float> right = b;
  reduce_to(DataType::kF32, ReduceOp::kMax, right.data(), a.data(), right.data(), 2);
  EXPECT_EQ(left, (std::vector<float>{2.0f, 8.0f}));
  EXPECT_EQ(right, (std::vector<float>{2.0f, 8.0f}));
}

TEST(ReduceKernels, MaxKeepsAccumulatorWhenIncomingIsNaN) {
  // Open MPI's MPI_MAX is `acc > in ? acc : in`; NaN placement follows from that order.
  std::vector<float> acc = {1.0f, std::numeric_limits<float>::quiet_NaN()};
  const std::vector<float> in = {std::numeric_limits<float>::quiet_NaN(), 1.0f};
  reduce_into(DataType::kF32, ReduceOp::kMax, acc.data(), in.data(), 2);
  EXPECT_TRUE(std::isnan(acc[0]));
  EXPECT_EQ(acc[1], 1.0f);
}

TEST(ReduceKernels, ZeroCountTouchesNothing) {
  std::vector<double> acc = {1.0};
  reduce_into(DataType::kF64, ReduceOp::kSum, acc.data(), nullptr, 0);
  EXPECT_EQ(acc[0], 1.0);
}

TEST(Bf16, ExactValuesRoundTrip) {
  for (float f : {0.0f, -0.0f, 1.0f, -2.5f, 256.0f, 1.5f, std::ldexp(1.0f, -133)}) {
    EXPECT_EQ(bf16_to_float(float_to_bf16(f)), f) << f;
  }
  EXPECT_EQ(float_to_bf16(1.0f), 0x3f80);
}

TEST(Bf16, RoundsHalfwayToEven) {
  // 1 + 2^-8 lies halfway between bf16 1.0 (even mantissa) and 1 + 2^-7 (odd): rounds down.
  EXPECT_EQ(float_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
  // 1 + 3*2^-8 lies halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even): rounds up.
  EXPECT_EQ(float_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  // Just above halfway rounds up; just below rounds down.
  EXPECT_EQ(float_to_bf16(std::nextafter(1.0f + std::ldexp(1.0f, -8), 2.0f)), 0x3f81);
  EXPECT_EQ(float_to_bf16(std::nextafter(1.0f + std::ldexp(1.0f, -8), 0.0f)), 0x3f80);
}

TEST(Bf16, NaNStaysNaNAndOverflowBecomesInfinity) {
  const uint16_t nan = float_to_bf16(std::numeric_limits<float>::quiet_NaN());
  EXPECT_TRUE(std::isnan(bf16_to_float(nan)));
  // A signalling NaN whose payload lives only in the low 16 bits must not become infinity.
  const float low_payload_nan = std::bit_cast<float>(uint32_t{0x7f800001});
  EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(low_payload_nan))));
  EXPECT_EQ(float_to_bf16(std::numeric_limits<float>::max()), 0x7f80);
  EXPECT_EQ(float_to_bf16(-std::numeric_limits<float>::infinity()), 0xff80);
}

TEST(Bf16, SumReducesInFloatAndRoundsOnce) {
  // 1 + 1/256 in float is a tie that rounds to even (1.0); 1 + 3/256 rounds up to 1 + 1/64.
  std::vector<uint16_t> acc = {float_to_bf16(1.0f), float_to_bf16(1.0f), float_to_bf16(100.0f)};
  const std::vector<uint16_t> in = {float_to_bf16(std::ldexp(1.0f, -8)),
                                    float_to_bf16(3 * std::ldexp(1.0f, -8)), float_to_bf16(28.0f)};
  reduce_into(DataType::kBF16, ReduceOp::kSum, acc.data(), in.data(), 3);
  EXPECT_EQ(bf16_to_float(acc[0]), 1.0f);
  EXPECT_EQ(bf16_to_float(acc[1]), 1.0f + std::ldexp(1.0f, -6));
  EXPECT_EQ(bf16_to_float(acc[2]), 128.0f);
}

TEST(Bf16, MaxMinAndProd) {
  const std::vector<uint16_t> a = {float_to_bf16(-3.0f), float_to_bf16(0.5f)};
  const std::vector<uint16_t> b = {float_to_bf16(2.0f), float_to_bf16(-4.0f)};
  std::vector<uint16_t> out(2);
  reduce_to(DataType::kBF16, ReduceOp::kMax, out.data(), a.data(), b.data(), 2);
  EXPECT_EQ(bf16_to_float(out[0]), 2.0f);
  EXPECT_EQ(bf16_to_float(out[1]), 0.5f);
  reduce_to(DataType::kBF16, ReduceOp::kMin, out.data(), a.data(), b.data(), 2);
  EXPECT_EQ(bf16_to_float(out[0]), -3.0f);
  EXPECT_EQ(bf16_to_float(out[1]), -4.0f);
  reduce_to(DataType::kBF16, ReduceOp::kProd, out.data(), a.data(), b.data(), 2);
  EXPECT_EQ(bf16_to_float(out[0]), -6.0f);
  EXPECT_EQ(bf16_to_float(out[1]), -2.0f);
}

TEST(DataTypes, ParseNamesAndAliases) {
  EXPECT_EQ(*parse_data_type("f32"), DataType::kF32);
  EXPECT_EQ(*parse_data_type("bfloat16"), DataType::kBF16);
  EXPECT_EQ(*parse_data_type("int64"), DataType::kI64);
  EXPECT_EQ(element_size(DataType::kBF16), 2);
  EXPECT_EQ(element_size(DataType::kF64), 8);
}

TEST(DataTypes, RejectsUnknownNames) {
  auto t = parse_data_type("f16");
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().hint().find("bf16"), std::string::npos);
  EXPECT_FALSE(parse_reduce_op("avg"));
  EXPECT_EQ(*parse_reduce_op("prod"), ReduceOp::kProd);
}

TEST(DataTypes, OrderExactnessRule) {
  EXPECT_TRUE(is_order_exact(DataType::kI32, ReduceOp::kSum));
  EXPECT_TRUE(is_order_exact(DataType::kF32, ReduceOp::kMax));
  EXPECT_FALSE(is_order_exact(DataType::kF32, ReduceOp::kSum));
  EXPECT_FALSE(is_order_exact(DataType::kBF16, ReduceOp::kProd));
}

}  // namespace
}  // namespace mlsys::coll
