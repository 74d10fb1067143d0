// Chrome trace event JSON (loads in Perfetto and chrome://tracing): complete spans, instants,
// counters and process/thread names, written deterministically in microseconds.
//
//   ChromeTrace trace;
//   trace.set_thread_name(0, 1, "GPU 0 compute");
//   trace.add_complete(0, 1, "fwd L3", "compute", us(10), us(42));
//   MLSYS_RETURN_IF_ERROR(trace.write_file("t.json"));
#pragma once

#include <cstddef>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mlsys/core/result.h"
#include "mlsys/core/units.h"
#include "mlsys/core/value.h"

namespace mlsys {

enum class InstantScope { kThread, kProcess, kGlobal };

class ChromeTrace {
 public:
  /// Names shown for a process (pid) and a thread (pid, tid) row; the last call wins.
  void set_process_name(int pid, std::string name);
  void set_thread_name(int pid, int tid, std::string name);
  /// Orders thread rows inside a process (lower first) instead of by tid.
  void set_thread_sort_index(int pid, int tid, int index);

  /// A span [start, start + duration) on a thread row ("ph":"X"). `args`, when an object, is
  /// shown in the details pane. A negative duration is a bug.
  void add_complete(int pid, int tid, std::string_view name, std::string_view category, Time start,
                    Time duration, Value args = {});
  /// A point event ("ph":"i").
  void add_instant(int pid, int tid, std::string_view name, std::string_view category, Time at,
                   InstantScope scope = InstantScope::kThread);
  /// A counter sample ("ph":"C"): each (series, value) pair is one line of the counter track.
  void add_counter(int pid, std::string_view name, Time at, std::vector<std::pair<std::string, double>> values);

  size_t event_count() const { return events_.size(); }

  /// {"traceEvents":[...]}: metadata first (by pid, then tid), then events in the order added,
  /// one per line. Times are exact decimal microseconds ("ts":1.5 for 1500 ns).
  void write(std::ostream& out) const;
  std::string to_string() const;
  Status write_file(const std::string& path) const;

 private:
  struct Event {
    char phase;  // 'X', 'i' or 'C'
    int pid;
    int tid;
    std::string name;
    std::string category;
    Time ts;
    Time dur;
    char scope;  // 't', 'p' or 'g' for instants
    Value args;
  };

  std::map<int, std::string> process_names_;
  std::map<std::pair<int, int>, std::string> thread_names_;
  std::map<std::pair<int, int>, int> thread_sort_;
  std::vector<Event> events_;
};

/// `t` in microseconds as exact decimal text: 1500 ns -> "1.5", -2 ns -> "-0.002".
std::string format_trace_micros(Time t);

}  // namespace mlsys
