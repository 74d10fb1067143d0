#include "mlsys/core/chrome_trace.h"

#include <fstream>
#include <sstream>

#include "mlsys/core/check.h"
#include "mlsys/core/json_writer.h"

namespace mlsys {

std::string format_trace_micros(Time t) {
  const int64_t ns = t.ns();
  // Unsigned magnitude so the most negative value does not overflow.
  const uint64_t magnitude = ns < 0 ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  std::string out = ns < 0 ? "-" : "";
  out += std::to_string(magnitude / 1000);
  uint64_t frac = magnitude % 1000;
  if (frac != 0) {
    std::string digits = std::to_string(frac);
    digits.insert(0, 3 - digits.size(), '0');
    while (digits.back() == '0') digits.pop_back();
    out += "." + digits;
  }
  return out;
}

void ChromeTrace::set_process_name(int pid, std::string name) { process_names_[pid] = std::move(name); }

void ChromeTrace::set_thread_name(int pid, int tid, std::string name) {
  thread_names_[{pid, tid}] = std::move(name);
}

void ChromeTrace::set_thread_sort_index(int pid, int tid, int index) { thread_sort_[{pid, tid}] = index; }

void ChromeTrace::add_complete(int pid, int tid, std::string_view name, std::string_view category, Time start,
                               Time duration, Value args) {
  MLSYS_CHECK(duration >= Time::zero(), "trace span with a negative duration");
  events_.push_back(Event{'X', pid, tid, std::string(name), std::string(category), start, duration, 't', std::move(args)});
}

void ChromeTrace::add_instant(int pid, int tid, std::string_view name, std::string_view category, Time at,
                              InstantScope scope) {
  const char s = scope == InstantScope::kThread ? 't' : scope == InstantScope::kProcess ? 'p' : 'g';
  events_.push_back(Event{'i', pid, tid, std::string(name), std::string(category), at, Time::zero(), s, Value()});
}

void ChromeTrace::add_counter(int pid, std::string_view name, Time at,
                              std::vector<std::pair<std::string, double>> values) {
  Value args = Value::object();
  for (auto& [series, v] : values) args.set(std::move(series), Value::number(v));
  events_.push_back(Event{'C', pid, 0, std::string(name), std::string(), at, Time::zero(), 't', std::move(args)});
}

void ChromeTrace::write(std::ostream& out) const {
  out << "{\"traceEvents\":[";
  bool first = true;
  auto next_event = [&]() -> JsonWriter {
    out << (first ? "\n" : ",\n");
    first = false;
    return JsonWriter(out, JsonStyle::kCompact);
  };
  auto metadata = [&](const char* kind, std::pair<int, int> thread, const char* arg_key, const auto& arg) {
    JsonWriter w = next_event();
    w.begin_object().field("name", kind).field("ph", "M").field("pid", thread.first).field("tid", thread.second);
    w.key("args").begin_object().field(arg_key, arg).end_object().end_object();
  };
  for (const auto& entry : process_names_) metadata("process_name", {entry.first, 0}, "name", entry.second);
  for (const auto& entry : thread_names_) metadata("thread_name", entry.first, "name", entry.second);
  for (const auto& entry : thread_sort_) metadata("thread_sort_index", entry.first, "sort_index", entry.second);
  for (const Event& e : events_) {
    JsonWriter w = next_event();
    w.begin_object().field("name", e.name);
    if (!e.category.empty()) w.field("cat", e.category);
    w.field("ph", std::string_view(&e.phase, 1)).field("pid", e.pid).field("tid", e.tid);
    w.key("ts").number_literal(format_trace_micros(e.ts));
    if (e.phase == 'X') w.key("dur").number_literal(format_trace_micros(e.dur));
    if (e.phase == 'i') w.field("s", std::string_view(&e.scope, 1));
    if (e.args.is_object()) w.field("args", e.args);
    w.end_object();
  }
  out << "\n]}\n";
}

std::string ChromeTrace::to_string() const {
  std::ostringstream out;
  write(out);
  return out.str();
}

Status ChromeTrace::write_file(const std::string& path) const {
  std::ofstream file(path, std::ios::binary);
  if (!file) return Error(ErrorCode::kIo, "cannot create trace file", {}, Location{path, 0});
  write(file);
  file.flush();
  if (!file) return Error(ErrorCode::kIo, "cannot write trace file", {}, Location{path, 0});
  return ok_status();
}

}  // namespace mlsys
