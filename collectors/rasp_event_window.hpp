#pragma once
// The blocked attacks of the last 7 x 24 hours, each remembered by its identity, and where the
// reading of each alarm log stopped: what lets rotation, deletion, re-reading and restarts
// neither lose nor double an event. Its record (serialize_window) is a small text, kept by the
// agent's state store.
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace hostprint::collectors {

inline constexpr std::int64_t rasp_window_seconds = 7 * 24 * 3600;
// An event dated further ahead than this is not believed (and not remembered).
inline constexpr std::int64_t rasp_window_future_seconds = 24 * 3600;
inline constexpr std::size_t rasp_window_max_events = 1'000'000;
inline constexpr std::size_t rasp_window_max_logs = 10'000;  // cursors kept
// The record is at most this large (the bounds above fit well inside it).
inline constexpr std::size_t rasp_window_max_record = 128u << 20;

// Where reading one alarm log stopped. The log is known by its identity (device, inode), so a
// renamed rotation keeps its place; a log that got shorter or whose first bytes changed (an inode
// used again) is read again from its start.
struct AlarmLogCursor {
  std::uint64_t offset = 0;       // every byte before it has been read
  std::uint64_t head_length = 0;  // how many of the first bytes `head_hash` covers
  std::uint64_t head_hash = 0;
  bool in_long_line = false;  // `offset` is inside a line already counted as too long
  friend bool operator==(const AlarmLogCursor&, const AlarmLogCursor&) = default;
};

struct FileIdentity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  friend auto operator<=>(const FileIdentity&, const FileIdentity&) = default;
};

class RaspEventWindow {
 public:
  enum class Added { counted, known, outside, full };

  // Remembers a blocked event at `time` (seconds since the epoch) seen at `now`, first found in
  // the log `log` (an event seen in two logs belongs to the first).
  Added add(std::uint64_t id, std::int64_t time, std::int64_t now, FileIdentity log = {});
  // Forgets the events that left the window; true when any did.
  bool expire(std::int64_t now);
  // The events within the last 7 x 24 hours before `now`.
  std::size_t count(std::int64_t now) const;
  // Those of them first found in one of `logs` (a RASP home's, for its processes).
  std::size_t count(std::int64_t now, const std::set<FileIdentity>& logs) const;
  std::size_t size() const { return events_.size(); }

  std::map<FileIdentity, AlarmLogCursor>& cursors() { return cursors_; }
  const std::map<FileIdentity, AlarmLogCursor>& cursors() const { return cursors_; }
  const std::unordered_map<std::uint64_t, std::int64_t>& events() const { return events_; }
  const std::unordered_map<std::uint64_t, FileIdentity>& sources() const { return sources_; }

  friend bool operator==(const RaspEventWindow&, const RaspEventWindow&) = default;

 private:
  std::unordered_map<std::uint64_t, std::int64_t> events_;  // identity -> event time
  std::unordered_map<std::uint64_t, FileIdentity> sources_;  // identity -> its log, when known
  std::map<FileIdentity, AlarmLogCursor> cursors_;
};

// The record's text: a header line, one line per cursor and per event, and a last line with
// the line count and a hash of all before it, so a cut or altered file is told apart.
std::string serialize_window(const RaspEventWindow& window);

struct ParsedWindow {
  std::optional<RaspEventWindow> window;
  std::string error;  // why the text is not a window
};
ParsedWindow parse_window(std::string_view text);

}  // namespace hostprint::collectors
