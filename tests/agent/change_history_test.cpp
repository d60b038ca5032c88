#include "agent/change_history.hpp"

#include <gtest/gtest.h>

#include <malloc.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>

#include "agent/config.hpp"
#include "agent/metrics.hpp"
#include "agent/router.hpp"
#include "agent/snapshot.hpp"
#include "agent/state_store.hpp"
#include "tests/temp_dir.hpp"

namespace hostprint {
namespace {

using proto::Account;
using proto::SoftwarePackage;

struct Scan {
  std::vector<Account> accounts;
  std::vector<SoftwarePackage> packages = {};
  std::vector<Account> container_accounts = {};
  std::vector<proto::ListeningPort> ports = {};
};

proto::AssetSet assets_of(const Scan& scan) {
  proto::AssetSet set;
  set.add(std::make_shared<const std::vector<Account>>(scan.accounts));
  set.add(std::make_shared<const std::vector<Account>>(scan.container_accounts),
          std::string(64, 'c'));
  set.add(std::make_shared<const std::vector<SoftwarePackage>>(scan.packages));
  set.add(std::make_shared<const std::vector<proto::ListeningPort>>(scan.ports));
  set.add(std::make_shared<const std::vector<proto::ProcessInfo>>(
      std::vector<proto::ProcessInfo>{{1, 5, "/sbin/init", ""}}));
  return set;
}

const collectors::KindSet reported =
    collectors::kinds<Account, proto::ListeningPort, SoftwarePackage, proto::AutoStartItem,
                      proto::KernelModule>();

// The ledger and the history together, as the scanner drives them.
struct Agent {
  explicit Agent(std::shared_ptr<collectors::StateRecords> store = nullptr,
                 HistorySettings settings = {})
      : ledger(store), history(store), settings(settings) {
    ledger.report_changes(reported);
  }
  std::vector<ItemChange> scan(const Scan& s, std::int64_t now_ms,
                               collectors::KindSet settled = collectors::KindSet().set()) {
    std::vector<ItemChange> changes;
    errors = ledger.update(assets_of(s), now_ms, &changes, settled);
    auto copy = changes;
    auto more = history.record(std::move(copy), now_ms, settings);
    errors.insert(errors.end(), more.begin(), more.end());
    return changes;
  }
  ItemLedger ledger;
  ChangeHistory history;
  HistorySettings settings;
  std::vector<std::string> errors;
};

std::vector<std::string> described(const std::vector<ItemChange>& changes) {
  std::vector<std::string> out;
  for (const auto& c : changes) out.push_back(describe_change(c));
  std::sort(out.begin(), out.end());
  return out;
}

const Account root{"root", 0, 0, "/root", "/bin/bash", "root"};
const Account alice{"alice", 1000, 1000, "/home/alice", "/bin/zsh", "alice"};
const SoftwarePackage curl{"dpkg", "curl", "7.88.1-10", "amd64"};
const SoftwarePackage jq{"dpkg", "jq", "1.6-2.1", "amd64"};

TEST(ChangeHistory, TheFirstScanIsTheBaselineThenAddsDeletesAndModifies) {
  Agent agent;
  EXPECT_TRUE(agent.scan({{root}, {curl}}, 1000).empty());  // the baseline: no events
  auto zsh_root = root;
  zsh_root.shell = "/bin/zsh";
  auto upgraded = curl;
  upgraded.version = "7.88.1-10+deb12u5";
  // An account added, a shell changed, a package upgraded and one installed; a container's
  // accounts and the processes are no change of the host.
  EXPECT_EQ(described(agent.scan({{zsh_root, alice}, {upgraded, jq}, {root}}, 2000)),
            (std::vector<std::string>{
                "kind=account type=add name=alice",
                "kind=account type=modify name=root shell=/bin/bash->/bin/zsh",
                "kind=app type=add name=jq package_manager=dpkg architecture=amd64",
                "kind=app type=modify name=curl package_manager=dpkg architecture=amd64 "
                "version=7.88.1-10->7.88.1-10+deb12u5",
            }));
  // Removed: the event carries the fields as last seen.
  auto changes = agent.scan({{zsh_root}, {upgraded}}, 3000);
  ASSERT_EQ(changes.size(), 2u);
  for (const auto& c : changes) {
    EXPECT_EQ(c.type, ChangeType::remove);
    if (c.kind == proto::kind_id<SoftwarePackage>) {
      EXPECT_EQ(ItemLedger::field_of(c.fields, "version"), "1.6-2.1");
    } else {
      EXPECT_EQ(ItemLedger::field_of(c.fields, "user_home_dir"), "/home/alice");
    }
  }
  EXPECT_TRUE(agent.scan({{zsh_root}, {upgraded}}, 4000).empty());  // nothing changed
  const auto log = agent.history.log();
  EXPECT_EQ(log->size, 6u);
  std::vector<std::int64_t> times;
  log->each([&](const ChangeEvent& e) { times.push_back(e.time_ms); });
  EXPECT_EQ(times, (std::vector<std::int64_t>{2000, 2000, 2000, 2000, 3000, 3000}));
  EXPECT_EQ(log->counted[proto::kind_id<Account>][static_cast<int>(ChangeType::add)], 1u);
  EXPECT_EQ(log->counted[proto::kind_id<SoftwarePackage>][static_cast<int>(ChangeType::modify)],
            1u);
}

TEST(ChangeHistory, APortsOwnerRestartedIsNoChangeAnotherProgramOnItIs) {
  Agent agent;
  const proto::ListeningPort ssh{proto::PortType::tcp, 22, "0.0.0.0", 612, "/usr/sbin/sshd"};
  EXPECT_TRUE(agent.scan({{root}, {}, {}, {ssh}}, 1000).empty());
  auto restarted = ssh;
  restarted.pid = 4711;  // the same daemon started again
  EXPECT_TRUE(agent.scan({{root}, {}, {}, {restarted}}, 2000).empty());
  auto other = restarted;
  other.exe = "/tmp/.x/sshd";  // another program took the port
  EXPECT_EQ(described(agent.scan({{root}, {}, {}, {other}}, 3000)),
            (std::vector<std::string>{"kind=port type=modify name=22 item_type=TCP "
                                      "path=/usr/sbin/sshd->/tmp/.x/sshd"}));
}

TEST(ChangeHistory, ARestartComparesWithTheLastScanBeforeIt) {
  test::TempDir dir;
  auto store = std::make_shared<StateStore>(dir.path());
  {
    Agent agent(store);
    agent.scan({{root}, {curl}}, 1000);
    ASSERT_EQ(agent.scan({{root, alice}, {curl}}, 2000).size(), 1u);
  }
  {
    Agent restarted(store);
    // Nothing changed while it was down: no burst.
    EXPECT_TRUE(restarted.scan({{root, alice}, {curl}}, 3000).empty()) << restarted.errors[0];
    EXPECT_TRUE(restarted.errors.empty());
    EXPECT_EQ(restarted.history.log()->size, 1u);  // the event before the restart, read back
  }
  Agent again(store);
  auto upgraded = curl;
  upgraded.version = "8.0";
  // Changed while it was down: exactly what changed.
  EXPECT_EQ(described(again.scan({{root}, {upgraded}}, 4000)),
            (std::vector<std::string>{
                "kind=account type=delete name=alice",
                "kind=app type=modify name=curl package_manager=dpkg architecture=amd64 "
                "version=7.88.1-10->8.0"}));
  EXPECT_EQ(again.history.log()->size, 3u);
  // The counters count what this run saw, the history keeps everything.
  EXPECT_EQ(again.history.log()->counted[proto::kind_id<Account>][1], 1u);
  EXPECT_EQ(again.history.log()->counted[proto::kind_id<Account>][0], 0u);
}

TEST(ChangeHistory, AKindWithNoResultYetIsNotGone) {
  test::TempDir dir;
  auto store = std::make_shared<StateStore>(dir.path());
  {
    Agent agent(store);
    agent.scan({{root, alice}, {curl}}, 1000);
  }
  Agent restarted(store);
  auto settled = collectors::KindSet().set();
  settled.reset(proto::kind_id<Account>);
  // The accounts' collector failed its first run after the restart: no accounts, no deletes.
  EXPECT_TRUE(restarted.scan({{}, {curl}}, 2000, settled).empty());
  EXPECT_EQ(restarted.ledger.times()->at(proto::identity_of(alice, "")).first_seen_ms, 1000);
  EXPECT_EQ(described(restarted.scan({{root}, {curl}}, 3000)),
            (std::vector<std::string>{"kind=account type=delete name=alice"}));
}

TEST(ChangeHistory, RetentionDropsTheOldestFirstAndCountsThem) {
  test::TempDir dir;
  auto store = std::make_shared<StateStore>(dir.path());
  Agent agent(store, {90, 3});
  agent.scan({{root}}, 1000);
  std::vector<Account> accounts{root};
  for (int i = 0; i < 5; ++i) {
    Account a{"user" + std::to_string(i), 2000u + i, 2000u + i, "/home/u", "/bin/sh"};
    accounts.push_back(a);
    agent.scan({accounts}, 2000 + i);
  }
  auto log = agent.history.log();
  EXPECT_EQ(log->size, 3u);
  EXPECT_EQ(log->dropped, 2u);
  std::vector<std::string> names;
  log->each(
      [&](const ChangeEvent& e) { names.push_back(*ItemLedger::field_of(e.fields, "user_name")); });
  EXPECT_EQ(names, (std::vector<std::string>{"user2", "user3", "user4"}));
  // By age: 90 days after the last event, all of it goes.
  constexpr std::int64_t day = 86'400'000;
  agent.scan({accounts}, 2004 + 90 * day);
  EXPECT_EQ(agent.history.log()->size, 1u);  // the event at 2004 is exactly 90 days old
  agent.scan({accounts}, 2005 + 90 * day);
  EXPECT_EQ(agent.history.log()->size, 0u);
  EXPECT_EQ(agent.history.log()->dropped, 5u);
  // The dropped count is kept with the record; a lower limit on start drops more.
  accounts.push_back({"late", 3000, 3000, "/", "/bin/sh"});
  agent.scan({accounts}, 3 * 90 * day);
  accounts.push_back({"later", 3001, 3001, "/", "/bin/sh"});
  agent.scan({accounts}, 3 * 90 * day + 1);
  Agent restarted(store, {90, 1});
  restarted.scan({accounts}, 3 * 90 * day + 2);
  EXPECT_EQ(restarted.history.log()->size, 1u);
  EXPECT_EQ(restarted.history.log()->dropped, 6u);
}

TEST(ChangeHistory, ACorruptRecordIsReportedAndRebuilt) {
  test::TempDir dir;
  auto store = std::make_shared<StateStore>(dir.path());
  for (std::string corrupt :
       {std::string("garbage"), std::string("hostprint change history 1\n"),
        std::string("hostprint change history 1\ndropped\tx\n"),
        std::string("hostprint change history 1\ndropped\t0\n12\taccount\tadd\n"),
        std::string("hostprint change history 1\ndropped\t0\nx\taccount\tadd\tuser_name=a\n"),
        std::string("hostprint change history 1\ndropped\t0\n1\taccount\tgone\tuser_name=a\n"),
        std::string("hostprint change history 1\ndropped\t0\n1\taccount\tadd\tbad\\q\n"),
        std::string("hostprint change history 1\ndropped\t0\n1\taccount\tadd\tuser_name=a")}) {
    std::ofstream(dir.path() / std::string(ChangeHistory::record_name), std::ios::binary)
        << corrupt;
    std::filesystem::remove(dir.path() / std::string(ItemLedger::record_name));
    {
      Agent agent(store);
      agent.scan({{root}}, 1000);
      ASSERT_EQ(agent.errors.size(), 1u) << corrupt;
      EXPECT_NE(agent.errors[0].find("change-history"), std::string::npos) << agent.errors[0];
      EXPECT_EQ(agent.history.log()->error, agent.errors[0]);
      EXPECT_EQ(agent.scan({{root, alice}}, 2000).size(), 1u);
    }
    Agent again(store);  // the rewritten record reads back
    again.scan({{root, alice}}, 3000);
    EXPECT_TRUE(again.errors.empty()) << corrupt << ": " << again.errors[0];
    EXPECT_EQ(again.history.log()->size, 1u) << corrupt;
  }
}

TEST(ChangeHistory, RecordTextRoundTripsAwkwardFields) {
  Account odd{
      "a\tb\nc\\d\x1f"
      "e=f",
      7, 7, "/h", "/bin/sh"};
  ChangeLog log;
  auto chunk = std::make_shared<std::vector<ChangeEvent>>();
  chunk->push_back(
      {5, proto::kind_id<Account>, ChangeType::remove, ItemLedger::encode_fields(odd)});
  log.chunks.push_back(chunk);
  log.size = 1;
  log.dropped = 9;
  std::string error;
  auto back = ChangeHistory::parse(ChangeHistory::serialize(log), 100, error);
  EXPECT_TRUE(error.empty()) << error;
  ASSERT_EQ(back.size, 1u);
  EXPECT_EQ(back.dropped, 9u);
  back.each([&](const ChangeEvent& e) {
    EXPECT_EQ(e.time_ms, 5);
    EXPECT_EQ(e.type, ChangeType::remove);
    EXPECT_EQ(ItemLedger::field_of(e.fields, "user_name"), odd.name);
    EXPECT_EQ(ItemLedger::field_of(e.fields, "uid"), "7");
  });
  // A kind a newer version wrote is skipped, not an error.
  back = ChangeHistory::parse("hostprint change history 1\ndropped\t0\n1\tfuture\tadd\tx=1\n", 100,
                              error);
  EXPECT_TRUE(error.empty()) << error;
  EXPECT_EQ(back.size, 0u);
}

// The five endpoints over a snapshot carrying the history, through the router.
class ChangeEndpoints : public ::testing::Test {
 protected:
  void SetUp() override {
    agent.scan({{root}, {curl}}, 1000);
    auto zsh_root = root;
    zsh_root.shell = "/usr/sbin/nologin";
    agent.scan({{zsh_root, alice}, {curl, jq}}, 2000);
    agent.scan({{zsh_root}, {curl, jq}}, 3000);
    proto::AssetSet assets;
    assets.host_name = "box";
    snapshot = build_snapshot(std::move(assets), {}, 1, 1.0);
    snapshot->changes = agent.history.log();
  }
  boost::json::object get(const std::string& target, int status = 200) {
    auto answer = route("GET", "/v5/p" + target, *snapshot, {std::nullopt, "0", "h1"});
    EXPECT_EQ(answer.status, status) << target << ": " << answer.body;
    return boost::json::parse(answer.body).as_object();
  }
  std::vector<std::string> column(const boost::json::object& body, const char* field) {
    std::vector<std::string> out;
    for (const auto& e : body.at("data_list").as_array()) {
      const auto& v = e.at(field);
      out.push_back(v.is_string() ? std::string(v.as_string()) : boost::json::serialize(v));
    }
    return out;
  }
  Agent agent;
  std::shared_ptr<Snapshot> snapshot;
};

TEST_F(ChangeEndpoints, UsersAsTheCloudShapesThem) {
  auto body = get("/asset/user/change-history");
  EXPECT_EQ(body.at("total_num").as_int64(), 3);
  // Newest first (one scan's changes in reverse of their stable order).
  EXPECT_EQ(column(body, "change_type"), (std::vector<std::string>{"DELETE", "MODIFY", "ADD"}));
  EXPECT_EQ(column(body, "user_name"), (std::vector<std::string>{"alice", "root", "alice"}));
  const auto& modified = body.at("data_list").as_array()[1].as_object();
  EXPECT_EQ(modified.at("shell").as_string(), "/usr/sbin/nologin");
  EXPECT_EQ(modified.at("login_permission").as_bool(), false);
  EXPECT_EQ(modified.at("root_permission").as_bool(), true);
  EXPECT_EQ(modified.at("user_home_dir").as_string(), "/root");
  EXPECT_EQ(modified.at("user_group_name").as_string(), "root");
  EXPECT_EQ(modified.at("recent_scan_time").as_int64(), 2000);
  EXPECT_EQ(modified.at("host_id").as_string(), "h1");
  EXPECT_EQ(modified.at("agent_id").as_string(), "h1");
  EXPECT_EQ(modified.at("host_name").as_string(), "box");
  EXPECT_EQ(modified.size(), 12u);
  EXPECT_EQ(column(get("/asset/user/change-history?change_type=ADD"), "user_name"),
            (std::vector<std::string>{"alice"}));
  EXPECT_EQ(get("/asset/user/change-history?root_permission=true").at("total_num").as_int64(), 1);
  EXPECT_EQ(get("/asset/user/change-history?start_time=2000&end_time=2000").at("total_num"), 2);
  EXPECT_EQ(get("/asset/user/change-history?start_time=2001").at("total_num"), 1);
  EXPECT_EQ(get("/asset/user/change-history?end_time=1999").at("total_num"), 0);
  EXPECT_EQ(get("/asset/user/change-history?host_id=other").at("total_num"), 0);
  EXPECT_EQ(column(get("/asset/user/change-history?limit=1&offset=2"), "change_type"),
            (std::vector<std::string>{"ADD"}));
  EXPECT_EQ(column(get("/asset/user/change-history?sort_dir=asc&limit=1"), "change_type"),
            (std::vector<std::string>{"ADD"}));
}

TEST_F(ChangeEndpoints, AppsSortAndFilter) {
  auto body = get("/asset/app/change-history?sort_key=recent_scan_time&sort_dir=asc");
  EXPECT_EQ(column(body, "variation_type"), (std::vector<std::string>{"add"}));
  EXPECT_EQ(column(body, "app_name"), (std::vector<std::string>{"jq"}));
  EXPECT_EQ(column(body, "version"), (std::vector<std::string>{"1.6-2.1"}));
  EXPECT_EQ(column(body, "update_time"), (std::vector<std::string>{"2000"}));
  EXPECT_EQ(get("/asset/app/change-history?variation_type=modify").at("total_num"), 0);
  EXPECT_EQ(get("/asset/app/change-history?app_name=jq&variation_type=add").at("total_num"), 1);
  EXPECT_EQ(get("/asset/auto-launch/change-history").at("total_num"), 0);
  EXPECT_EQ(get("/asset/port/change-history").at("total_num"), 0);
  EXPECT_EQ(get("/asset/kernel-module/change-history").at("total_num"), 0);
}

TEST_F(ChangeEndpoints, InvalidParametersAre400NamingThem) {
  const std::pair<const char*, const char*> bad[] = {
      {"/asset/user/change-history?change_type=add", "change_type"},
      {"/asset/app/change-history?variation_type=ADD", "variation_type"},
      {"/asset/app/change-history?sort_key=app_name", "sort_key"},
      {"/asset/app/change-history?sort_dir=up", "sort_dir"},
      {"/asset/app/change-history?start_time=-1", "start_time"},
      {"/asset/app/change-history?end_time=12345678901234567890", "end_time"},
      {"/asset/user/change-history?sort_dir=up", "sort_dir"},
      {"/asset/port/change-history?port=0", "port"},
      {"/asset/auto-launch/change-history?type=3", "type"},
  };
  for (const auto& [target, parameter] : bad) {
    auto body = get(target, 400);
    EXPECT_EQ(body.at("error_code").as_string(), "HSS.0001") << target;
    EXPECT_NE(std::string(body.at("error_description").as_string()).find(parameter),
              std::string::npos)
        << target << ": " << body;
  }
}

TEST_F(ChangeEndpoints, CountedInMetricsAndStatus) {
  const auto text = render_metrics(*snapshot, {"h1"}, MetricsFormat::prometheus_text);
  EXPECT_NE(text.find("# TYPE hostprint_changes_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("hostprint_changes_total{host_id=\"h1\",enterprise_project_id=\"0\","
                      "kind=\"account\",type=\"add\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("kind=\"kernel_module\",type=\"modify\"} 0\n"), std::string::npos);
  const auto om = render_metrics(*snapshot, {"h1"}, MetricsFormat::openmetrics);
  EXPECT_NE(om.find("# TYPE hostprint_changes counter\n"), std::string::npos);
  EXPECT_NE(om.find("kind=\"app\",type=\"add\"} 1\n"), std::string::npos);
  auto status = boost::json::parse(route("GET", "/status", *snapshot, {}).body).as_object();
  EXPECT_EQ(status.at("change_history").at("events").as_int64(), 4);
  EXPECT_EQ(status.at("change_history").at("dropped_events").as_int64(), 0);
}

TEST(ChangeHistory, LimitsAreConfiguredAndCheckedWithOneLineErrors) {
  Config config;
  EXPECT_EQ(config.history_max_age_days, 90u);
  EXPECT_EQ(config.history_max_events, 100000u);
  apply_config_text(config, R"({"history": {"max_age_days": 7}, "history.max_events": 50})", "f");
  EXPECT_EQ(config.history_max_age_days, 7u);
  EXPECT_EQ(config.history_max_events, 50u);
  const std::pair<const char*, const char*> bad[] = {
      {R"({"history.max_age_days": 0})",
       "f: history.max_age_days: must be an integer from 1 to 3650"},
      {R"({"history.max_events": 1000001})",
       "f: history.max_events: must be an integer from 1 to 1000000"},
      {R"({"history": {"max_days": 3}})",
       "f: history.max_days: unknown key (allowed: history.max_age_days, history.max_events)"},
      {R"({"history": 5})", "f: history: must be an object with max_age_days and max_events"},
  };
  for (const auto& [text, message] : bad) {
    try {
      apply_config_text(config, text, "f");
      ADD_FAILURE() << text;
    } catch (const ConfigError& e) {
      EXPECT_EQ(std::string(e.what()), message);
    }
  }
}

// Not a limit the product states: what 100,000 events cost to keep (printed for the record).
TEST(ChangeHistory, AHundredThousandEventsLoadAndSaveQuickly) {
  test::TempDir dir;
  auto store = std::make_shared<StateStore>(dir.path());
  ChangeLog log;
  auto chunk = std::make_shared<std::vector<ChangeEvent>>();
  for (int i = 0; i < 100000; ++i) {
    SoftwarePackage p{"dpkg", "package-" + std::to_string(i), "1.2.3-4+deb12u" + std::to_string(i),
                      "amd64"};
    chunk->push_back({1'700'000'000'000 + i, proto::kind_id<SoftwarePackage>, ChangeType::modify,
                      ItemLedger::encode_fields(p)});
  }
  log.chunks.push_back(chunk);
  log.size = chunk->size();
  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  ASSERT_EQ(store->save(ChangeHistory::record_name, ChangeHistory::serialize(log)), "");
  auto t1 = clock::now();
  std::string error;
  auto text = store->load(ChangeHistory::record_name, ChangeHistory::max_record_bytes, error);
  ASSERT_TRUE(text);
  chunk.reset();
  log = {};
  const auto heap_before = ::mallinfo2().uordblks;
  auto back = ChangeHistory::parse(*text, 100000, error);
  auto t2 = clock::now();
  const auto heap = ::mallinfo2().uordblks - heap_before;
  EXPECT_EQ(back.size, 100000u);
  const auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  std::printf("100000 events: %zu bytes; save %.1f ms, load %.1f ms, %.1f MiB in memory\n",
              text->size(), ms(t1 - t0), ms(t2 - t1), static_cast<double>(heap) / (1 << 20));
  EXPECT_LT(ms(t2 - t1), 5000);
}

}  // namespace
}  // namespace hostprint
