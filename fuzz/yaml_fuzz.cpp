// YAML reader: never crashes (yaml-cpp exceptions become Errors); whatever parses converts to
// JSON that our JSON reader reads back to the same tree.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "mlsys/core/json_reader.h"
#include "mlsys/core/json_writer.h"
#include "mlsys/core/yaml_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const mlsys::Result<mlsys::Value> parsed = mlsys::parse_yaml(text, "fuzz.yaml");
  if (!parsed) {
    FUZZ_CHECK(!parsed.error().message().empty(), "an error has a message");
    return 0;
  }
  const std::string written = mlsys::to_json(*parsed, mlsys::JsonStyle::kCompact);
  const mlsys::Result<mlsys::Value> again = mlsys::parse_json(written, "written.json");
  FUZZ_CHECK(again, "YAML converted to JSON parses");
  FUZZ_CHECK(*again == *parsed, "YAML -> JSON keeps the tree");
  return 0;
}
