#include "mlsys/core/chrome_trace.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "mlsys/core/check.h"
#include "mlsys/core/json_reader.h"

namespace mlsys {
namespace {

ChromeTrace sample_trace() {
  ChromeTrace t;
  t.set_thread_name(1, 2, "GPU 0 compute");
  t.set_process_name(1, "node 0");
  t.set_thread_sort_index(1, 2, 5);
  Value args = Value::object();
  args.set("bytes", Value::integer(4096));
  t.add_complete(1, 2, "fwd \"L3\"", "compute", nsec(1500), us(42), args);
  t.add_instant(1, 2, "checkpoint", "io", us(50), InstantScope::kProcess);
  t.add_counter(1, "hbm", us(60), {{"used", 1.5}, {"free", 78.5}});
  return t;
}

TEST(ChromeTrace, FormatsExactMicroseconds) {
  EXPECT_EQ(format_trace_micros(nsec(1500)), "1.5");
  EXPECT_EQ(format_trace_micros(nsec(1000)), "1");
  EXPECT_EQ(format_trace_micros(nsec(1)), "0.001");
  EXPECT_EQ(format_trace_micros(nsec(-2)), "-0.002");
  EXPECT_EQ(format_trace_micros(Time::max()), "9223372036854775.807");
  EXPECT_EQ(format_trace_micros(nsec(INT64_MIN)), "-9223372036854775.808");
}

TEST(ChromeTrace, OutputParsesBackWithExpectedEvents) {
  const Result<Value> doc = parse_json(sample_trace().to_string(), "trace.json");
  ASSERT_TRUE(doc) << doc.error().to_string();
  const Value& events = **doc->get("traceEvents");
  ASSERT_EQ(events.size(), 6u);

  // Metadata first: process name, thread name, sort index.
  EXPECT_EQ(*events.items()[0].get_string("name"), "process_name");
  EXPECT_EQ(*(*events.items()[0].get("args"))->get_string("name"), "node 0");
  EXPECT_EQ(*events.items()[1].get_string("ph"), "M");
  EXPECT_EQ(*(*events.items()[1].get("args"))->get_string("name"), "GPU 0 compute");
  EXPECT_EQ(*(*events.items()[2].get("args"))->get_int("sort_index"), 5);

  const Value& span = events.items()[3];
  EXPECT_EQ(*span.get_string("ph"), "X");
  EXPECT_EQ(*span.get_string("name"), "fwd \"L3\"");
  EXPECT_EQ(*span.get_string("cat"), "compute");
  EXPECT_EQ(*span.get_int("pid"), 1);
  EXPECT_EQ(*span.get_int("tid"), 2);
  EXPECT_DOUBLE_EQ(*span.get_number("ts"), 1.5);
  EXPECT_DOUBLE_EQ(*span.get_number("dur"), 42.0);
  EXPECT_EQ(*(*span.get("args"))->get_int("bytes"), 4096);

  const Value& instant = events.items()[4];
  EXPECT_EQ(*instant.get_string("ph"), "i");
  EXPECT_EQ(*instant.get_string("s"), "p");
  EXPECT_DOUBLE_EQ(*instant.get_number("ts"), 50.0);

  const Value& counter = events.items()[5];
  EXPECT_EQ(*counter.get_string("ph"), "C");
  EXPECT_DOUBLE_EQ(*(*counter.get("args"))->get_number("free"), 78.5);
}

TEST(ChromeTrace, OutputIsDeterministic) {
  EXPECT_EQ(sample_trace().to_string(), sample_trace().to_string());
}

TEST(ChromeTrace, MetadataIsSortedByPidAndTid) {
  ChromeTrace t;
  t.set_thread_name(2, 1, "b");
  t.set_thread_name(1, 9, "a");
  t.set_thread_name(1, 3, "c");
  const Result<Value> doc = parse_json(t.to_string(), "t");
  ASSERT_TRUE(doc);
  const Value& events = **doc->get("traceEvents");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(*events.items()[0].get_int("tid"), 3);
  EXPECT_EQ(*events.items()[1].get_int("tid"), 9);
  EXPECT_EQ(*events.items()[2].get_int("pid"), 2);
}

TEST(ChromeTrace, EmptyTraceIsValidJson) {
  const Result<Value> doc = parse_json(ChromeTrace().to_string(), "t");
  ASSERT_TRUE(doc);
  EXPECT_EQ((*doc->get("traceEvents"))->size(), 0u);
}

TEST(ChromeTrace, NegativeDurationIsABug) {
  ChromeTrace t;
  EXPECT_THROW(t.add_complete(0, 0, "x", "", us(1), us(-1)), InternalError);
}

TEST(ChromeTrace, WritesFile) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("mlsys_trace_" + std::to_string(::getpid()) + ".json")).string();
  ASSERT_TRUE(sample_trace().write_file(path));
  const Result<Value> doc = read_json_file(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(doc);
  EXPECT_EQ((*doc->get("traceEvents"))->size(), 6u);
}

TEST(ChromeTrace, UnwritablePathIsAnIoError) {
  const Status s = sample_trace().write_file("/nonexistent/dir/t.json");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kIo);
}

}  // namespace
}  // namespace mlsys
