#include "agent/scanner.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <future>

#include "agent/collector_registry.hpp"

namespace hostprint {
namespace {

using collectors::Collector;
using collectors::KindSet;
using collectors::kinds;
using collectors::Outcome;
using collectors::ScanContext;

// A collector whose behaviour each test sets: what it reads and writes, and what a run does.
class Probe final : public Collector {
 public:
  Probe(std::string name, KindSet reads, KindSet writes, std::function<Outcome()> run = {})
      : name_(std::move(name)), reads_(reads), writes_(writes), run_(std::move(run)) {}
  std::string_view name() const override { return name_; }
  KindSet reads() const override { return reads_; }
  KindSet writes() const override { return writes_; }
  Outcome collect(const ScanContext& context) override {
    ++runs;
    if (reads_.test(proto::kind_id<proto::ProcessInfo>))
      seen = context.input_part<proto::ProcessInfo>().size();
    return run_ ? run_() : Outcome{};
  }
  void publish(proto::AssetSet& found) const override {
    if (writes_.test(proto::kind_id<proto::ProcessInfo>)) found.add(processes);
  }
  std::size_t item_count() const override { return 0; }

  int runs = 0;
  std::size_t seen = 0;
  std::shared_ptr<const std::vector<proto::ProcessInfo>> processes =
      std::make_shared<const std::vector<proto::ProcessInfo>>(
          std::vector<proto::ProcessInfo>{{1, 1, "/bin/a", ""}, {2, 1, "/bin/b", "c"}});

 private:
  std::string name_;
  KindSet reads_, writes_;
  std::function<Outcome()> run_;
};

Outcome failed() {
  Outcome o;
  o.fail("source unreadable");
  return o;
}

const CollectorStatus& status(const Snapshot& s, std::string_view name) {
  for (const auto& c : s.collectors)
    if (c.name == name) return c;
  throw std::runtime_error("no collector " + std::string(name));
}

TEST(Scanner, OrdersCollectorsByWhatTheyReadAndWrite) {
  std::vector<std::unique_ptr<Collector>> all;
  auto reader = std::make_unique<Probe>("reader", kinds<proto::ProcessInfo>(), kinds<proto::WebApp>());
  auto writer = std::make_unique<Probe>("writer", KindSet{}, kinds<proto::ProcessInfo>());
  Probe* r = reader.get();
  all.push_back(std::move(reader));  // registered first, yet runs second
  all.push_back(std::move(writer));
  Scanner scanner({}, std::move(all));
  auto snapshot = scanner.scan_once();
  EXPECT_EQ(snapshot->collectors.at(0).name, "writer");
  EXPECT_EQ(snapshot->collectors.at(1).name, "reader");
  EXPECT_EQ(r->seen, 2u);  // this scan's table
  EXPECT_EQ(snapshot->host.counts.process_num, 1);
  EXPECT_EQ(snapshot->container.counts.process_num, 1);
}

TEST(Scanner, EachProcessIsReadOncePerScanAndShared) {
  // Two collectors ask for this process's command line; the second gets what the first read.
  // What was read is looked at while the scan holds it: the reader goes with the scan.
  std::vector<const collectors::ProcessCommand*> seen;
  std::vector<bool> readable, has_argv;
  auto ask = [&](const ScanContext& context) {
    const auto& command = context.processes().command(static_cast<int>(::getpid()));
    seen.push_back(&command);
    readable.push_back(command.readable);
    has_argv.push_back(!command.argv.empty());
  };
  class Asker final : public Collector {
   public:
    Asker(std::string name, std::function<void(const ScanContext&)> f)
        : name_(std::move(name)), f_(std::move(f)) {}
    std::string_view name() const override { return name_; }
    KindSet writes() const override { return {}; }
    Outcome collect(const ScanContext& c) override {
      f_(c);
      return {};
    }
    void publish(proto::AssetSet&) const override {}
    std::size_t item_count() const override { return 0; }

   private:
    std::string name_;
    std::function<void(const ScanContext&)> f_;
  };
  std::vector<std::unique_ptr<Collector>> all;
  all.push_back(std::make_unique<Asker>("first", ask));
  all.push_back(std::make_unique<Asker>("second", ask));
  Scanner scanner({}, std::move(all));
  scanner.scan_once();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], seen[1]);
  EXPECT_EQ(readable, (std::vector<bool>{true, true}));
  EXPECT_EQ(has_argv, (std::vector<bool>{true, true}));
}

// serve opens its port there: the first scan must list it, compared and published once.
TEST(Scanner, TheHookBeforeTheFirstPublishRunsOnceAndWhatItChangedIsReadAgain) {
  // Publishes one port per socket this process holds, read through the scan's process reader.
  class Sockets final : public Collector {
   public:
    std::string_view name() const override { return "sockets"; }
    KindSet writes() const override { return kinds<proto::ListeningPort>(); }
    Outcome collect(const ScanContext& context) override {
      std::vector<proto::ListeningPort> ports;
      for (const auto& target :
           context.processes().open_files(static_cast<int>(::getpid())).targets)
        if (target.starts_with("socket:"))
          ports.push_back({.port = static_cast<std::uint16_t>(ports.size() + 1)});
      counts.push_back(ports.size());
      items_ = std::make_shared<const std::vector<proto::ListeningPort>>(std::move(ports));
      return {};
    }
    void publish(proto::AssetSet& found) const override { found.add(items_); }
    std::size_t item_count() const override { return items_->size(); }
    std::vector<std::size_t> counts;

   private:
    std::shared_ptr<const std::vector<proto::ListeningPort>> items_ =
        std::make_shared<const std::vector<proto::ListeningPort>>();
  };
  // Reads the ports (run again after the hook for that); the other does not (not run again).
  class PortReader final : public Collector {
   public:
    std::string_view name() const override { return "port_reader"; }
    KindSet reads() const override { return kinds<proto::ListeningPort>(); }
    KindSet writes() const override { return kinds<proto::WebApp>(); }
    Outcome collect(const ScanContext& context) override {
      seen.push_back(context.input_part<proto::ListeningPort>().size());
      return {};
    }
    void publish(proto::AssetSet&) const override {}
    std::size_t item_count() const override { return 0; }
    std::vector<std::size_t> seen;
  };
  auto sockets_owned = std::make_unique<Sockets>();
  auto reader_owned = std::make_unique<PortReader>();
  auto other_owned = std::make_unique<Probe>("other", KindSet{}, kinds<proto::Account>());
  Sockets* sockets = sockets_owned.get();
  PortReader* reader = reader_owned.get();
  Probe* other = other_owned.get();
  std::vector<std::unique_ptr<Collector>> all;
  all.push_back(std::move(reader_owned));
  all.push_back(std::move(other_owned));
  all.push_back(std::move(sockets_owned));
  Scanner scanner({}, std::move(all));

  int calls = 0;
  bool published_before = true;
  int fd = -1;
  scanner.before_first_publish(
      [&] {
        ++calls;
        published_before = scanner.current() != nullptr;
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      },
      {"sockets"});
  auto first = scanner.scan_once();
  ASSERT_GE(fd, 0);
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(published_before);
  ASSERT_EQ(sockets->counts.size(), 2u);
  EXPECT_EQ(sockets->counts[1], sockets->counts[0] + 1) << "read again with a reader of its own";
  EXPECT_EQ(reader->seen, (std::vector<std::size_t>{sockets->counts[0], sockets->counts[1]}));
  EXPECT_EQ(other->runs, 1);
  EXPECT_EQ(first->host.counts.port_num, static_cast<std::int64_t>(sockets->counts[1]));
  EXPECT_EQ(first->generation, 1u);

  scanner.scan_once();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(sockets->counts.size(), 3u);
  EXPECT_EQ(other->runs, 2);
  ::close(fd);
}

TEST(ProcessReader, ReadsAProcessOnceAndAReusedPidAsGone) {
  const int self = static_cast<int>(::getpid());
  std::vector<proto::ProcessInfo> table{{self, 1, "/x", ""}};  // a start time that is not ours
  collectors::ProcessReader reused("/proc", table);
  EXPECT_FALSE(reused.command(self).readable);
  collectors::ProcessReader any("/proc", {});
  const auto& first = any.command(self);
  EXPECT_TRUE(first.readable);
  EXPECT_EQ(first.parent, std::optional<int>(static_cast<int>(::getppid())));
  EXPECT_EQ(&any.command(self), &first);
}

TEST(Scanner, ACycleIsRefusedAtConstruction) {
  std::vector<std::unique_ptr<Collector>> all;
  all.push_back(std::make_unique<Probe>("a", kinds<proto::WebApp>(), kinds<proto::ProcessInfo>()));
  all.push_back(std::make_unique<Probe>("b", kinds<proto::ProcessInfo>(), kinds<proto::WebApp>()));
  EXPECT_THROW(Scanner({}, std::move(all)), std::logic_error);
}

TEST(Scanner, TheRegistryHasAnOrderAndEveryReadHasAWriter) {
  collectors::CollectorConfig config;
  config.rules = std::make_shared<const collectors::Fingerprints>();
  std::vector<std::unique_ptr<Collector>> all;
  KindSet written;
  for (const auto& entry : collector_registry()) {
    all.push_back(entry.make(config));
    EXPECT_EQ(all.back()->name(), entry.name);
    written |= all.back()->writes();
  }
  const auto order = run_order(all);
  EXPECT_EQ(order.size(), all.size());
  for (const auto& c : all) EXPECT_EQ((c->reads() & ~written).none(), true) << c->name();
}

TEST(Scanner, AMissingInputMeansTheSameForEveryReader) {
  std::vector<std::unique_ptr<Collector>> all;
  all.push_back(std::make_unique<Probe>("table", KindSet{}, kinds<proto::ProcessInfo>(), failed));
  auto one = std::make_unique<Probe>("one", kinds<proto::ProcessInfo>(), kinds<proto::WebApp>());
  auto two = std::make_unique<Probe>("two", kinds<proto::ProcessInfo>(), kinds<proto::JarPackage>());
  Probe *p1 = one.get(), *p2 = two.get();
  all.push_back(std::move(one));
  all.push_back(std::move(two));
  Scanner scanner({}, std::move(all));
  auto snapshot = scanner.scan_once();
  for (std::string_view name : {"one", "two"}) {
    const auto& s = status(*snapshot, name);
    EXPECT_FALSE(s.complete);
    ASSERT_EQ(s.errors.size(), 1u);
    EXPECT_EQ(s.errors[0], "no result yet from table to read");
  }
  EXPECT_EQ(p1->runs, 0);  // never run on a result that does not exist
  EXPECT_EQ(p2->runs, 0);
}

TEST(Scanner, AnyThrowIsContainedAndNamedOnce) {
  std::vector<std::unique_ptr<Collector>> all;
  all.push_back(std::make_unique<Probe>("ints", KindSet{}, kinds<proto::WebApp>(),
                                        []() -> Outcome { throw 42; }));
  all.push_back(std::make_unique<Probe>("std", KindSet{}, kinds<proto::JarPackage>(),
                                        []() -> Outcome { throw std::length_error("too long"); }));
  auto after = std::make_unique<Probe>("after", KindSet{}, kinds<proto::KernelModule>());
  Probe* a = after.get();
  all.push_back(std::move(after));
  Scanner scanner({}, std::move(all));
  auto snapshot = scanner.scan_once();
  EXPECT_EQ(status(*snapshot, "ints").errors, std::vector<std::string>{"internal failure"});
  EXPECT_EQ(status(*snapshot, "std").errors,
            std::vector<std::string>{"internal failure: too long"});
  EXPECT_EQ(a->runs, 1);  // the scan went on
}

// A collector blocked in a read (a pipe nobody writes, as a stalled mount holds a read) is
// abandoned past its deadline; the scan goes on, its readers get its last good result, and it is
// not started again until that read returns.
TEST(Scanner, ACollectorStuckInAReadIsAbandonedAndNotStartedAgain) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  auto calls = std::make_shared<std::atomic<int>>(0);
  const int read_end = pipe_fds[0];
  auto blocking = [calls, read_end]() -> Outcome {
    if (calls->fetch_add(1) == 0) return {};
    char byte;
    if (::read(read_end, &byte, 1) != 1) return failed();
    return {};
  };
  std::vector<std::unique_ptr<Collector>> all;
  all.push_back(std::make_unique<Probe>("table", KindSet{}, kinds<proto::ProcessInfo>(), blocking));
  auto reader = std::make_unique<Probe>("reader", kinds<proto::ProcessInfo>(), kinds<proto::WebApp>());
  Probe* r = reader.get();
  all.push_back(std::move(reader));
  ScanSettings settings;
  settings.collector_deadline = std::chrono::milliseconds(200);
  Scanner scanner(settings, std::move(all));
  scanner.scan_once();
  // Without abandonment the scan would wait on the pipe: it is given 10 s, then released.
  auto scan = [&] {
    auto pending = std::async(std::launch::async, [&] { return scanner.scan_once(); });
    if (pending.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      ADD_FAILURE() << "the scan waited on the stuck collector";
      EXPECT_EQ(::write(pipe_fds[1], "xxxxxxxx", 8), 8);
    }
    return pending.get();
  };
  const auto started = std::chrono::steady_clock::now();
  auto stuck = scan();
  if (HasFailure()) return;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  EXPECT_EQ(calls->load(), 2);
  EXPECT_FALSE(status(*stuck, "table").complete);
  ASSERT_EQ(status(*stuck, "table").errors.size(), 1u);
  EXPECT_NE(status(*stuck, "table").errors[0].find("stuck in a read past its deadline since "),
            std::string::npos)
      << status(*stuck, "table").errors[0];
  EXPECT_EQ(r->runs, 2);  // the scan went on
  EXPECT_EQ(r->seen, 2u);  // with the stuck collector's last good result
  EXPECT_EQ(stuck->host.counts.process_num, 1);

  auto again = scan();
  EXPECT_EQ(calls->load(), 2) << "started again while its previous run is stuck";
  ASSERT_EQ(status(*again, "table").errors.size(), 1u);
  EXPECT_EQ(status(*again, "table").errors[0].rfind("stuck in a read for ", 0), 0u)
      << status(*again, "table").errors[0];
  EXPECT_EQ(r->runs, 3);
  EXPECT_EQ(again->host.counts.process_num, 1);

  // The read returns: the late run's result is dropped, and the next scan runs it again.
  ASSERT_EQ(::write(pipe_fds[1], "xxxxxxxx", 8), 8);
  for (int i = 0; i < 500 && scan()->collectors.at(0).errors.size() == 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto freed = scan();
  EXPECT_TRUE(status(*freed, "table").complete);
  EXPECT_TRUE(status(*freed, "table").errors.empty());
  EXPECT_GE(calls->load(), 3);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

}  // namespace
}  // namespace hostprint
