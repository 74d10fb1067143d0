// NCCL topology XML importer (hw/nccl_topology.h): never crashes; every error is located in the
// input (file and line); an imported topology is consistent (one endpoint per GPU, links join
// existing nodes with positive bandwidth) and can be summarised.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "mlsys/hw/nccl_topology.h"
#include "mlsys/hw/topology_builders.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view xml(reinterpret_cast<const char*>(data), size);
  const mlsys::Result<mlsys::hw::NcclTopology> imported =
      mlsys::hw::read_nccl_topology(xml, "fuzz.xml");
  if (!imported) {
    FUZZ_CHECK(!imported.error().message().empty(), "an error says what went wrong");
    FUZZ_CHECK(imported.error().where().file == "fuzz.xml", "an error names the file");
    FUZZ_CHECK(imported.error().where().line >= 1, "an error has a line");
    return 0;
  }
  const mlsys::hw::Topology& t = imported->topology;
  FUZZ_CHECK(t.endpoint_count() == static_cast<int>(imported->gpus.size()), "one endpoint per GPU");
  for (const mlsys::hw::Link& l : t.links()) {
    FUZZ_CHECK(l.src >= 0 && l.src < t.node_count() && l.dst >= 0 && l.dst < t.node_count(),
               "links join existing nodes");
    FUZZ_CHECK(l.bandwidth > mlsys::Bandwidth(), "links have positive bandwidth");
  }
  const mlsys::hw::TopologySummary s = mlsys::hw::summarize(t, 8);
  FUZZ_CHECK(s.nodes == t.node_count(), "the summary counts every node");
  return 0;
}
