#pragma once
// What every collector shares: what it reads and writes, the scan's context, and how it reports.
#include <bitset>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/io/process_reader.hpp"
#include "proto/assets.hpp"

namespace hostprint::collectors {

// The asset items are the tables' (proto/assets.hpp); collectors fill them.
using proto::Account;
using proto::AutoStartItem;
using proto::AutoStartType;
using proto::JarPackage;
using proto::KernelModule;
using proto::ListeningPort;
using proto::PortType;
using proto::ProcessInfo;
using proto::ProductCategory;
using proto::ProtectedProcess;
using proto::ServedSite;
using proto::ServiceInstance;
using proto::SoftwarePackage;
using proto::WebApp;
using proto::WebFramework;
using proto::WebSite;
using proto::to_string;

struct Fingerprints;

// Named records that outlive a restart, kept by the agent (its state folder). A collector owns
// its record's format; the keeper only stores the bytes, each record replaced whole.
class StateRecords {
 public:
  virtual ~StateRecords() = default;
  // The bytes of record `name`. Nothing, with `error` empty, when there is no such record yet;
  // nothing, with the reason in `error`, when it cannot be read or is larger than `max_bytes`.
  virtual std::optional<std::string> load(std::string_view name, std::size_t max_bytes,
                                          std::string& error) = 0;
  // Replaces record `name` with `bytes` so that a crash leaves the old or the new, whole.
  // Returns "" or what failed.
  virtual std::string save(std::string_view name, std::string_view bytes) = 0;
  // Where record `name` is kept, to name it in messages.
  virtual std::string where(std::string_view name) const = 0;
};

// What a reload may change; each collector takes what concerns it in reconfigure().
struct CollectorConfig {
  std::shared_ptr<const Fingerprints> rules;  // never null once the scanner has it
  std::vector<std::string> rasp_agent_jars;
  std::vector<std::string> rasp_alarm_logs;
  std::shared_ptr<StateRecords> state;  // null: state is kept in memory only
};

using KindSet = std::bitset<proto::asset_kind_count>;

template <class... Items>
KindSet kinds() {
  KindSet set;
  (set.set(proto::kind_id<Items>), ...);
  return set;
}

// A collector asked for a result it did not declare it reads.
class UndeclaredInput : public std::logic_error {
  using std::logic_error::logic_error;
};

struct ScanContext {
  std::filesystem::path root = "/";      // files are read under this root
  std::filesystem::path proc = "/proc";  // live kernel state of the agent's namespaces
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();

  bool expired() const { return std::chrono::steady_clock::now() >= deadline; }

  // This scan's results of earlier collectors, of the kinds the running collector reads; none
  // when it runs on its own.
  template <class Item>
  const proto::Parts<Item>& input() const {
    if (!found) return empty_parts<Item>();
    if (!readable.test(proto::kind_id<Item>))
      throw UndeclaredInput("reads " + std::string(proto::kind_name(proto::kind_id<Item>)) +
                            " without declaring it");
    return found->of<Item>();
  }
  // The items of one part: "" the host's (or those that name their container themselves), else
  // that container's. Never null.
  template <class Item>
  const std::vector<Item>& input_part(std::string_view container_id = {}) const {
    for (const auto& part : input<Item>())
      if (part.container_id == container_id && part.items) return *part.items;
    static const std::vector<Item> none;
    return none;
  }

  // The scan's shared reader of running processes (made at the first ask when none was given).
  ProcessReader& processes() const {
    if (!reader) reader = std::make_shared<ProcessReader>(proc, table());
    return *reader;
  }

  const proto::AssetSet* found = nullptr;
  KindSet readable;
  mutable std::shared_ptr<ProcessReader> reader;

 private:
  std::span<const ProcessInfo> table() const {
    if (!found) return {};
    const auto& parts = found->of<ProcessInfo>();
    if (parts.empty() || !parts.front().items) return {};
    return *parts.front().items;
  }
  template <class Item>
  static const proto::Parts<Item>& empty_parts() {
    static const proto::Parts<Item> none;
    return none;
  }
};

// A collector's report of one run. `complete` false means the result could not be produced at
// all (deadline, failure to open the source): the scanner then keeps the last good result.
// With `complete` true, `errors` lists what was skipped while the rest was read. Messages never
// name the collector: the scanner does.
struct Outcome {
  bool complete = true;
  std::vector<std::string> errors;

  void error(std::string message) { errors.push_back(std::move(message)); }
  void fail(std::string message) {
    complete = false;
    errors.push_back(std::move(message));
  }
  // The scan's deadline for this collector passed before it could finish.
  void deadline_passed() { fail("deadline passed"); }
};

// One asset source. A collector keeps its last good result, so a failed run changes nothing.
class Collector {
 public:
  virtual ~Collector() = default;
  virtual std::string_view name() const = 0;
  // The kinds of earlier collectors' results it reads, and the kinds it writes: the scanner
  // orders collectors by them.
  virtual KindSet reads() const { return {}; }
  virtual KindSet writes() const = 0;
  // Reads the source; when the outcome is complete, the collector's result is replaced.
  virtual Outcome collect(const ScanContext& context) = 0;
  // Hands the last good result to the scan's asset set (shared, not copied).
  virtual void publish(proto::AssetSet& found) const = 0;
  virtual std::size_t item_count() const = 0;
  // A reload: new rules and settings, applied between scans.
  virtual void reconfigure(const CollectorConfig&) {}
};

// Runs one collector; whatever it throws (std::exception or not) becomes a failed outcome.
Outcome run_contained(Collector& collector, const ScanContext& context);

// A collector of one kind of the host's items, keeping its last good list.
template <class Item>
class ListCollector : public Collector {
 public:
  KindSet writes() const override { return kinds<Item>(); }
  void publish(proto::AssetSet& found) const override { found.add(items_); }
  std::size_t item_count() const override { return items_->size(); }
  const std::shared_ptr<const std::vector<Item>>& items() const { return items_; }

 protected:
  void replace(std::vector<Item> items) {
    items_ = std::make_shared<const std::vector<Item>>(std::move(items));
  }
  void keep(std::shared_ptr<const std::vector<Item>> items) { items_ = std::move(items); }

 private:
  std::shared_ptr<const std::vector<Item>> items_ = std::make_shared<const std::vector<Item>>();
};

}  // namespace hostprint::collectors
