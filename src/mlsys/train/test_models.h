// Test helpers: GPT shapes from the reference tables (Korthikanti, SC'21) built on the zoo's GPT.
#pragma once

#include <cstdint>

#include "mlsys/model/model.h"

namespace mlsys::train::testing {

/// A Megatron GPT of the given shape (ffn = 4h, vocab 51200, seq 2048) from the zoo's GPT-3.
inline model::ModelSpec gpt_shape(int64_t hidden, int64_t layers, int64_t heads) {
  model::ModelSpec m = *model::find_model("gpt3-175b");
  m.name = "gpt-test";
  m.hidden = hidden;
  m.layers = layers;
  m.heads = heads;
  m.kv_heads = heads;
  m.head_dim = hidden / heads;
  m.ffn = 4 * hidden;
  return m;
}

}  // namespace mlsys::train::testing
