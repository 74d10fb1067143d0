// dbtree: NCCL's double binary tree allreduce (Sanders, Speck & Träff's two-tree idea as NCCL
// builds it; research notes §2.4). Tree 1: ranks 1..P-1 form an in-order binary tree by their
// lowest set bit b (parent (r - b) | 2b, or r - b when that is out of range), with rank 0 as the
// root above it. Tree 2 mirrors tree 1 (rank r -> P-1-r) when P is even and shifts it by one
// rank when P is odd, so most ranks that are leaves in one tree are inner nodes in the other.
// Each tree reduces half of the vector up to its root and broadcasts it back down; the two run
// concurrently. A node forwards up once all its children's halves arrived (step = the height of
// its subtree) and down one step after it got the result. No pipelining within a tree: each
// half moves as one block.

#include <algorithm>

#include "mlsys/coll/internal/families.h"
#include "mlsys/coll/internal/schedule_tools.h"

namespace mlsys::coll::internal {
namespace {

struct Tree {
  std::vector<int> parent;  // -1 at the root
  std::vector<std::vector<int>> children;
  std::vector<int> height;  // 0 at leaves
  std::vector<int> depth;   // 0 at the root

  explicit Tree(std::vector<int> parents) : parent(std::move(parents)) {
    const int n = static_cast<int>(parent.size());
    children.resize(static_cast<size_t>(n));
    height.assign(static_cast<size_t>(n), 0);
    depth.assign(static_cast<size_t>(n), 0);
    for (int r = 0; r < n; ++r) {
      if (parent[static_cast<size_t>(r)] >= 0)
        children[static_cast<size_t>(parent[static_cast<size_t>(r)])].push_back(r);
      for (int u = parent[static_cast<size_t>(r)]; u >= 0; u = parent[static_cast<size_t>(u)])
        ++depth[static_cast<size_t>(r)];
    }
    std::vector<int> by_depth(static_cast<size_t>(n));
    for (int r = 0; r < n; ++r) by_depth[static_cast<size_t>(r)] = r;
    std::stable_sort(by_depth.begin(), by_depth.end(), [&](int a, int b) {
      return depth[static_cast<size_t>(a)] > depth[static_cast<size_t>(b)];
    });
    for (int r : by_depth) {
      const int u = parent[static_cast<size_t>(r)];
      if (u >= 0)
        height[static_cast<size_t>(u)] =
            std::max(height[static_cast<size_t>(u)], height[static_cast<size_t>(r)] + 1);
    }
  }
  int root_height() const {
    for (size_t r = 0; r < parent.size(); ++r) {
      if (parent[r] < 0) return height[r];
    }
    return 0;
  }
  int max_depth() const { return *std::max_element(depth.begin(), depth.end()); }
};

std::vector<int> first_tree_parents(int n) {
  std::vector<int> parent(static_cast<size_t>(n), -1);
  for (int r = 1; r < n; ++r) {
    const int b = r & -r;
    const int up = (r ^ b) | (b << 1);
    parent[static_cast<size_t>(r)] = up < n ? up : r ^ b;
  }
  return parent;
}

std::vector<int> second_tree_parents(const std::vector<int>& first) {
  const int n = static_cast<int>(first.size());
  std::vector<int> parent(static_cast<size_t>(n), -1);
  for (int r = 0; r < n; ++r) {
    if (n % 2 == 0) {
      const int u = first[static_cast<size_t>(n - 1 - r)];
      parent[static_cast<size_t>(r)] = u < 0 ? -1 : n - 1 - u;
    } else {
      const int u = first[static_cast<size_t>((r + n - 1) % n)];
      parent[static_cast<size_t>(r)] = u < 0 ? -1 : (u + 1) % n;
    }
  }
  return parent;
}

class DoubleBinaryTree final : public Algorithm {
 public:
  explicit DoubleBinaryTree(AlgorithmParams p) : Algorithm(std::move(p)) {
    std::vector<int> first = first_tree_parents(ranks());
    trees_.emplace_back(second_tree_parents(first));
    trees_.emplace(trees_.begin(), std::move(first));
    for (const Tree& t : trees_) {
      up_steps_ = std::max(up_steps_, t.root_height());
      down_steps_ = std::max(down_steps_, t.max_depth());
    }
  }

  std::string name() const override { return "dbtree"; }
  int64_t block_count() const override { return 2; }

  RankSchedule schedule_for(int rank) const override {
    ScheduleBuilder b(rank, up_steps_ + down_steps_);
    const auto r = static_cast<size_t>(rank);
    for (int32_t t = 0; t < 2; ++t) {
      const Tree& tree = trees_[static_cast<size_t>(t)];
      for (int c : tree.children[r]) {
        b.recv(tree.height[static_cast<size_t>(c)], c, {t}, RecvKind::kReduce);
        b.send(up_steps_ + tree.depth[r], c, {t}, RecvKind::kCopy);
      }
      if (tree.parent[r] >= 0) {
        b.send(tree.height[r], tree.parent[r], {t}, RecvKind::kReduce);
        b.recv(up_steps_ + tree.depth[r] - 1, tree.parent[r], {t}, RecvKind::kCopy);
      }
    }
    return std::move(b).finish();
  }

 private:
  std::vector<Tree> trees_;
  int up_steps_ = 0;
  int down_steps_ = 0;
};

}  // namespace

Result<AlgorithmPtr> make_double_binary_tree(const AlgorithmParams& params) {
  MLSYS_RETURN_IF_ERROR(require_single_port(params, "dbtree"));
  return AlgorithmPtr(std::make_unique<DoubleBinaryTree>(params));
}

}  // namespace mlsys::coll::internal
