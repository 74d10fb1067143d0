// Topology spec strings (hw/topology_builders.h parse_topology_spec, the --topology option):
// never crashes, never allocates without bound; an error names the option; a built topology is
// consistent. Specs naming a file (nccl:PATH) are skipped: the XML itself has nccl_xml_fuzz.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "mlsys/hw/topology_builders.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view spec(reinterpret_cast<const char*>(data), size);
  if (spec.substr(0, 5) == "nccl:") return 0;
  const mlsys::Result<mlsys::hw::Topology> t = mlsys::hw::parse_topology_spec(spec);
  if (!t) {
    FUZZ_CHECK(!t.error().message().empty(), "an error says what went wrong");
    return 0;
  }
  FUZZ_CHECK(t->endpoint_count() >= 1, "a topology has endpoints");
  for (const mlsys::hw::Link& l : t->links()) {
    FUZZ_CHECK(l.src >= 0 && l.src < t->node_count() && l.dst >= 0 && l.dst < t->node_count(),
               "links join existing nodes");
  }
  return 0;
}
