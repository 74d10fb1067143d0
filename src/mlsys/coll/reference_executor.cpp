#include "mlsys/coll/reference_executor.h"

#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <utility>

#include "mlsys/core/check.h"

namespace mlsys::coll {

std::string_view to_string(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return "sum";
    case ReduceOp::kMax:
      return "max";
    case ReduceOp::kMin:
      return "min";
    case ReduceOp::kProd:
      return "prod";
  }
  return "?";
}

Result<ReduceOp> parse_reduce_op(std::string_view text) {
  for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kMax, ReduceOp::kMin, ReduceOp::kProd}) {
    if (to_string(op) == text) return op;
  }
  return invalid_input("unknown reduction '" + std::string(text) + "'", "use sum, max, min or prod");
}

std::vector<int64_t> block_offsets(int64_t elements, int64_t blocks) {
  MLSYS_CHECK(elements >= 0 && blocks > 0, "bad block_offsets arguments");
  std::vector<int64_t> offsets(static_cast<size_t>(blocks) + 1, 0);
  const int64_t base = elements / blocks;
  const int64_t extra = elements % blocks;
  for (int64_t b = 0; b < blocks; ++b) {
    offsets[static_cast<size_t>(b) + 1] = offsets[static_cast<size_t>(b)] + base + (b < extra ? 1 : 0);
  }
  return offsets;
}

double reduce_values(ReduceOp op, double a, double b) {
  switch (op) {
    case ReduceOp::kSum:
      return a + b;
    case ReduceOp::kMax:
      return std::max(a, b);
    case ReduceOp::kMin:
      return std::min(a, b);
    case ReduceOp::kProd:
      return a * b;
  }
  return a;
}

int64_t reduce_values(ReduceOp op, int64_t a, int64_t b) {
  const auto ua = static_cast<uint64_t>(a);
  const auto ub = static_cast<uint64_t>(b);
  switch (op) {
    case ReduceOp::kSum:
      return static_cast<int64_t>(ua + ub);
    case ReduceOp::kMax:
      return std::max(a, b);
    case ReduceOp::kMin:
      return std::min(a, b);
    case ReduceOp::kProd:
      return static_cast<int64_t>(ua * ub);
  }
  return a;
}

namespace {

// One message as seen from one side: sends and receives must pair up one to one.
struct Record {
  int step;
  int src;
  int dst;
  uint64_t hash;
  int64_t count;
  auto key() const { return std::tie(step, src, dst, hash, count); }
  bool operator<(const Record& o) const { return key() < o.key(); }
  bool operator==(const Record& o) const { return key() == o.key(); }
};

uint64_t hash_blocks(const std::vector<int32_t>& blocks) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (int32_t b : blocks) {
    h ^= static_cast<uint32_t>(b);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string preview(const std::vector<int32_t>& blocks) {
  std::string s = "[";
  for (size_t i = 0; i < blocks.size() && i < 8; ++i) s += (i > 0 ? "," : "") + std::to_string(blocks[i]);
  if (blocks.size() > 8) s += ",... " + std::to_string(blocks.size()) + " blocks";
  return s + "]";
}

Error schedule_error(const std::string& message) {
  return invalid_input("invalid schedule: " + message,
                       "the algorithm's schedules do not pair up; this is a bug in it");
}

// What `side` (the sender, or else the receiver) lists for messages from `src` to `dst` at `step`.
std::string listed(const Algorithm& algo, int step, int src, int dst, bool sender) {
  const RankSchedule s = algo.schedule_for(sender ? src : dst);
  std::string out;
  if (step < static_cast<int>(s.steps.size())) {
    const Step& st = s.steps[static_cast<size_t>(step)];
    for (const Transfer& t : sender ? st.sends : st.recvs) {
      if (t.peer == (sender ? dst : src)) out += (out.empty() ? "blocks " : " and ") + preview(t.blocks);
    }
  }
  return out.empty() ? "nothing" : out;
}

Status check_rank(const Algorithm& algo, int rank, const RankSchedule& s, std::vector<Record>& sends,
                  std::vector<Record>& recvs) {
  const int p = algo.ranks();
  const int64_t blocks = algo.block_count();
  if (s.rank != rank) {
    return schedule_error("schedule_for(" + std::to_string(rank) + ") says rank " + std::to_string(s.rank));
  }
  std::vector<std::pair<int32_t, bool>> landed;  // (block, by copy) of one step's receives
  for (size_t i = 0; i < s.steps.size(); ++i) {
    const int step = static_cast<int>(i);
    const auto where = [&] { return "rank " + std::to_string(rank) + " step " + std::to_string(step); };
    for (int side = 0; side < 2; ++side) {
      const bool is_send = side == 0;
      for (const Transfer& t : is_send ? s.steps[i].sends : s.steps[i].recvs) {
        const char* verb = is_send ? " sends to " : " receives from ";
        if (t.peer < 0 || t.peer >= p || t.peer == rank) {
          return schedule_error(where() + verb + "rank " + std::to_string(t.peer) +
                                ", not another rank in 0.." + std::to_string(p - 1));
        }
        for (size_t b = 0; b < t.blocks.size(); ++b) {
          const int32_t x = t.blocks[b];
          if (x < 0 || x >= blocks || (b > 0 && x <= t.blocks[b - 1])) {
            return schedule_error(where() + verb + "rank " + std::to_string(t.peer) + " blocks " +
                                  preview(t.blocks) + ": not ascending distinct blocks below " +
                                  std::to_string(blocks));
          }
        }
        Record r{step, is_send ? rank : t.peer, is_send ? t.peer : rank, hash_blocks(t.blocks),
                 static_cast<int64_t>(t.blocks.size())};
        (is_send ? sends : recvs).push_back(r);
      }
    }
    // A block copied twice (or copied and reduced) in one step would depend on the order of the
    // receives. Each receive's blocks are sorted, so merging the runs finds repeats without a full sort.
    const auto& in = s.steps[i].recvs;
    if (in.size() < 2) continue;
    landed.clear();
    for (const Transfer& t : in) {
      const size_t mid = landed.size();
      for (int32_t x : t.blocks) landed.emplace_back(x, t.kind == RecvKind::kCopy);
      std::inplace_merge(landed.begin(), landed.begin() + static_cast<std::ptrdiff_t>(mid), landed.end());
    }
    for (size_t k = 1; k < landed.size(); ++k) {
      if (landed[k].first == landed[k - 1].first && (landed[k].second || landed[k - 1].second)) {
        return schedule_error(where() + " receives block " + std::to_string(landed[k].first) +
                              " twice with a copy among them; the result would depend on the order");
      }
    }
  }
  return {};
}

}  // namespace

Status validate_schedules(const Algorithm& algorithm) {
  std::vector<Record> sends;
  std::vector<Record> recvs;
  for (int r = 0; r < algorithm.ranks(); ++r) {
    MLSYS_RETURN_IF_ERROR(check_rank(algorithm, r, algorithm.schedule_for(r), sends, recvs));
  }
  std::sort(sends.begin(), sends.end());
  std::sort(recvs.begin(), recvs.end());
  size_t i = 0;
  size_t j = 0;
  while (i < sends.size() || j < recvs.size()) {
    if (i < sends.size() && j < recvs.size() && sends[i] == recvs[j]) {
      ++i;
      ++j;
      continue;
    }
    const Record& r = j == recvs.size() || (i < sends.size() && sends[i] < recvs[j]) ? sends[i] : recvs[j];
    return schedule_error("rank " + std::to_string(r.src) + " step " + std::to_string(r.step) + " sends " +
                          listed(algorithm, r.step, r.src, r.dst, true) + " to rank " +
                          std::to_string(r.dst) + ", which receives " +
                          listed(algorithm, r.step, r.src, r.dst, false) + " from it in that step");
  }
  return {};
}

namespace {

template <class T>
Result<std::vector<std::vector<T>>> run(const Algorithm& algo, std::vector<std::vector<T>> buffers,
                                        ReduceOp op) {
  const int p = algo.ranks();
  if (static_cast<int>(buffers.size()) != p) {
    return invalid_input("the reference executor got " + std::to_string(buffers.size()) + " buffers for " +
                             std::to_string(p) + " ranks",
                         "give one vector per rank");
  }
  const int64_t elements = buffers.empty() ? 0 : static_cast<int64_t>(buffers[0].size());
  for (const auto& b : buffers) {
    if (static_cast<int64_t>(b.size()) != elements) {
      return invalid_input("the ranks' vectors differ in length",
                           "give every rank a vector of the same length");
    }
  }
  MLSYS_RETURN_IF_ERROR(validate_schedules(algo));

  std::vector<RankSchedule> schedules;
  size_t steps = 0;
  for (int r = 0; r < p; ++r) {
    schedules.push_back(algo.schedule_for(r));
    steps = std::max(steps, schedules.back().steps.size());
  }
  const std::vector<int64_t> offsets = block_offsets(elements, algo.block_count());

  struct Message {
    const std::vector<int32_t>* blocks;
    std::vector<T> data;
  };
  for (size_t s = 0; s < steps; ++s) {
    // Every send of the step reads the buffers before any receive of the step lands.
    std::map<std::pair<int, int>, std::vector<Message>> in_flight;
    for (int r = 0; r < p; ++r) {
      if (s >= schedules[static_cast<size_t>(r)].steps.size()) continue;
      for (const Transfer& t : schedules[static_cast<size_t>(r)].steps[s].sends) {
        Message m{&t.blocks, {}};
        for (int32_t b : t.blocks) {
          const auto& buf = buffers[static_cast<size_t>(r)];
          m.data.insert(m.data.end(), buf.begin() + offsets[static_cast<size_t>(b)],
                        buf.begin() + offsets[static_cast<size_t>(b) + 1]);
        }
        in_flight[{r, t.peer}].push_back(std::move(m));
      }
    }
    for (int r = 0; r < p; ++r) {
      if (s >= schedules[static_cast<size_t>(r)].steps.size()) continue;
      for (const Transfer& t : schedules[static_cast<size_t>(r)].steps[s].recvs) {
        auto& queue = in_flight[{t.peer, r}];
        const auto it =
            std::find_if(queue.begin(), queue.end(), [&](const Message& m) { return *m.blocks == t.blocks; });
        MLSYS_CHECK(it != queue.end(), "validated schedules lost a message");
        auto& buf = buffers[static_cast<size_t>(r)];
        size_t at = 0;
        for (int32_t b : t.blocks) {
          for (int64_t e = offsets[static_cast<size_t>(b)]; e < offsets[static_cast<size_t>(b) + 1]; ++e) {
            T& dst = buf[static_cast<size_t>(e)];
            dst = t.kind == RecvKind::kCopy ? it->data[at] : reduce_values(op, dst, it->data[at]);
            ++at;
          }
        }
        queue.erase(it);
      }
    }
  }
  return buffers;
}

}  // namespace

Result<std::vector<std::vector<double>>> run_reference(const Algorithm& algorithm,
                                                       std::vector<std::vector<double>> buffers,
                                                       ReduceOp op) {
  return run(algorithm, std::move(buffers), op);
}

Result<std::vector<std::vector<int64_t>>> run_reference(const Algorithm& algorithm,
                                                        std::vector<std::vector<int64_t>> buffers,
                                                        ReduceOp op) {
  return run(algorithm, std::move(buffers), op);
}

}  // namespace mlsys::coll
