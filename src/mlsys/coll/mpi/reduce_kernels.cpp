#include "mlsys/coll/mpi/reduce_kernels.h"

#include <bit>
#include <string>
#include <type_traits>

namespace mlsys::coll {
namespace {

// Kernels are instantiated inside the entry points below, which GCC compiles twice (AVX2 and
// baseline x86-64) and picks from at load time: reductions are on the critical path of every
// step, and bf16 rounding in particular profits from wider vectors.
// Every helper below is forced inline so that each clone gets its own copy of the loops,
// compiled for that clone's instruction set.
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define MLSYS_KERNEL_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define MLSYS_KERNEL_CLONES
#endif
#define MLSYS_INLINE [[gnu::always_inline]] inline

struct SumOp {
  template <class T>
  [[gnu::always_inline]] static T apply(T a, T b) {
    return a + b;
  }
};
struct ProdOp {
  template <class T>
  [[gnu::always_inline]] static T apply(T a, T b) {
    return a * b;
  }
};
// Same selection rule as Open MPI's MPI_MAX/MPI_MIN: keep the accumulated value unless the
// incoming one is strictly greater (less), so NaN placement matches too.
struct MaxOp {
  template <class T>
  [[gnu::always_inline]] static T apply(T acc, T in) {
    return acc > in ? acc : in;
  }
};
struct MinOp {
  template <class T>
  [[gnu::always_inline]] static T apply(T acc, T in) {
    return acc < in ? acc : in;
  }
};

// Integers wrap modulo 2^bits like the MPI libraries' C loops do, without signed overflow UB.
template <class Op, class T>
MLSYS_INLINE T combine(T a, T b) {
  if constexpr (std::is_integral_v<T> && (std::is_same_v<Op, SumOp> || std::is_same_v<Op, ProdOp>)) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(Op::apply(static_cast<U>(a), static_cast<U>(b)));
  } else {
    return Op::apply(a, b);
  }
}

MLSYS_INLINE float bf16_bits_to_float(uint16_t h) {
  return std::bit_cast<float>(static_cast<uint32_t>(h) << 16);
}

MLSYS_INLINE uint16_t float_to_bf16_bits(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  if ((bits & 0x7fffffffU) > 0x7f800000U) return static_cast<uint16_t>((bits >> 16) | 0x0040U);
  // Round to nearest, ties to even: add 0x7fff plus the lowest kept bit, then truncate.
  const uint32_t rounded = bits + 0x7fffU + ((bits >> 16) & 1U);
  return static_cast<uint16_t>(rounded >> 16);
}

template <class Op, class T>
MLSYS_INLINE void into_loop(T* __restrict acc, const T* __restrict in, int64_t n) {
#pragma GCC unroll 4
  for (int64_t i = 0; i < n; ++i) acc[i] = combine<Op>(acc[i], in[i]);
}
// acc[i] = a[i] op acc[i]: the accumulator is the right operand.
template <class Op, class T>
MLSYS_INLINE void into_right_loop(T* __restrict acc, const T* __restrict a, int64_t n) {
#pragma GCC unroll 4
  for (int64_t i = 0; i < n; ++i) acc[i] = combine<Op>(a[i], acc[i]);
}
template <class Op, class T>
MLSYS_INLINE void to_loop(T* __restrict out, const T* __restrict a, const T* __restrict b, int64_t n) {
#pragma GCC unroll 4
  for (int64_t i = 0; i < n; ++i) out[i] = combine<Op>(a[i], b[i]);
}

template <class Op>
MLSYS_INLINE void bf16_into_loop(uint16_t* __restrict acc, const uint16_t* __restrict in, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    acc[i] = float_to_bf16_bits(Op::apply(bf16_bits_to_float(acc[i]), bf16_bits_to_float(in[i])));
  }
}
template <class Op>
MLSYS_INLINE void bf16_into_right_loop(uint16_t* __restrict acc, const uint16_t* __restrict a, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    acc[i] = float_to_bf16_bits(Op::apply(bf16_bits_to_float(a[i]), bf16_bits_to_float(acc[i])));
  }
}
template <class Op>
MLSYS_INLINE void bf16_to_loop(uint16_t* __restrict out, const uint16_t* __restrict a,
                               const uint16_t* __restrict b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    out[i] = float_to_bf16_bits(Op::apply(bf16_bits_to_float(a[i]), bf16_bits_to_float(b[i])));
  }
}

enum class Form { kInto, kIntoRight, kTo };

template <class Op, class T>
MLSYS_INLINE void dispatch_form(Form form, void* out, const void* a, const void* b, int64_t n) {
  if (form == Form::kInto) {
    into_loop<Op>(static_cast<T*>(out), static_cast<const T*>(b), n);
  } else if (form == Form::kIntoRight) {
    into_right_loop<Op>(static_cast<T*>(out), static_cast<const T*>(a), n);
  } else {
    to_loop<Op>(static_cast<T*>(out), static_cast<const T*>(a), static_cast<const T*>(b), n);
  }
}

template <class Op>
MLSYS_INLINE void dispatch_type(Form form, DataType t, void* out, const void* a, const void* b, int64_t n) {
  switch (t) {
    case DataType::kF32:
      dispatch_form<Op, float>(form, out, a, b, n);
      return;
    case DataType::kF64:
      dispatch_form<Op, double>(form, out, a, b, n);
      return;
    case DataType::kI32:
      dispatch_form<Op, int32_t>(form, out, a, b, n);
      return;
    case DataType::kI64:
      dispatch_form<Op, int64_t>(form, out, a, b, n);
      return;
    case DataType::kBF16: {
      auto* o = static_cast<uint16_t*>(out);
      if (form == Form::kInto) {
        bf16_into_loop<Op>(o, static_cast<const uint16_t*>(b), n);
      } else if (form == Form::kIntoRight) {
        bf16_into_right_loop<Op>(o, static_cast<const uint16_t*>(a), n);
      } else {
        bf16_to_loop<Op>(o, static_cast<const uint16_t*>(a), static_cast<const uint16_t*>(b), n);
      }
      return;
    }
  }
}

MLSYS_KERNEL_CLONES
void reduce_kernel(Form form, DataType t, ReduceOp op, void* out, const void* a, const void* b, int64_t n) {
  switch (op) {
    case ReduceOp::kSum:
      dispatch_type<SumOp>(form, t, out, a, b, n);
      return;
    case ReduceOp::kMax:
      dispatch_type<MaxOp>(form, t, out, a, b, n);
      return;
    case ReduceOp::kMin:
      dispatch_type<MinOp>(form, t, out, a, b, n);
      return;
    case ReduceOp::kProd:
      dispatch_type<ProdOp>(form, t, out, a, b, n);
      return;
  }
}

}  // namespace

std::string_view to_string(DataType t) {
  switch (t) {
    case DataType::kF32:
      return "f32";
    case DataType::kF64:
      return "f64";
    case DataType::kI32:
      return "i32";
    case DataType::kI64:
      return "i64";
    case DataType::kBF16:
      return "bf16";
  }
  return "?";
}

Result<DataType> parse_data_type(std::string_view text) {
  struct Alias {
    std::string_view name;
    DataType type;
  };
  static constexpr Alias kAliases[] = {{"f32", DataType::kF32},   {"float", DataType::kF32},
                                       {"f64", DataType::kF64},   {"double", DataType::kF64},
                                       {"i32", DataType::kI32},   {"int32", DataType::kI32},
                                       {"i64", DataType::kI64},   {"int64", DataType::kI64},
                                       {"bf16", DataType::kBF16}, {"bfloat16", DataType::kBF16}};
  for (const Alias& a : kAliases) {
    if (a.name == text) return a.type;
  }
  return invalid_input("unknown data type '" + std::string(text) + "'", "use f32, f64, i32, i64 or bf16");
}

int64_t element_size(DataType t) {
  switch (t) {
    case DataType::kF32:
    case DataType::kI32:
      return 4;
    case DataType::kF64:
    case DataType::kI64:
      return 8;
    case DataType::kBF16:
      return 2;
  }
  return 1;
}

bool is_order_exact(DataType t, ReduceOp op) {
  return op == ReduceOp::kMax || op == ReduceOp::kMin || t == DataType::kI32 || t == DataType::kI64;
}

void reduce_into(DataType t, ReduceOp op, void* inout, const void* in, int64_t count) {
  if (count <= 0) return;
  reduce_kernel(Form::kInto, t, op, inout, nullptr, in, count);
}

void reduce_to(DataType t, ReduceOp op, void* out, const void* a, const void* b, int64_t count) {
  if (count <= 0) return;
  if (out == a) {
    reduce_kernel(Form::kInto, t, op, out, nullptr, b, count);
  } else if (out == b) {
    reduce_kernel(Form::kIntoRight, t, op, out, a, nullptr, count);
  } else {
    reduce_kernel(Form::kTo, t, op, out, a, b, count);
  }
}

uint16_t float_to_bf16(float f) { return float_to_bf16_bits(f); }
float bf16_to_float(uint16_t h) { return bf16_bits_to_float(h); }

}  // namespace mlsys::coll
