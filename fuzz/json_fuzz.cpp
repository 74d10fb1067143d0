// JSON reader: never crashes; whatever parses writes back (pretty and compact) to text that
// parses to the same tree and is byte-stable.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "mlsys/core/json_reader.h"
#include "mlsys/core/json_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const mlsys::Result<mlsys::Value> parsed = mlsys::parse_json(text, "fuzz.json");
  if (!parsed) {
    FUZZ_CHECK(!parsed.error().to_string().empty(), "an error has a message");
    FUZZ_CHECK(parsed.error().where().line >= 1, "a JSON error has a line");
    return 0;
  }
  for (const mlsys::JsonStyle style : {mlsys::JsonStyle::kPretty, mlsys::JsonStyle::kCompact}) {
    const std::string written = mlsys::to_json(*parsed, style);
    const mlsys::Result<mlsys::Value> again = mlsys::parse_json(written, "written.json");
    FUZZ_CHECK(again, "written JSON parses");
    FUZZ_CHECK(*again == *parsed, "round trip keeps the tree");
    FUZZ_CHECK(mlsys::to_json(*again, style) == written, "writing is byte-stable");
  }
  return 0;
}
