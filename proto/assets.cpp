#include "proto/assets.hpp"

#include "proto/digest.hpp"

namespace hostprint::proto {
namespace {

using T = FieldType;

std::string_view file_name(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

template <CountField field>
CountField always(const auto&) {
  return field;
}

template <class Item>
std::string_view own_container(const Item& item) {
  return item.container_id;
}

// A shell that lets nobody in (lists.md, login_permission).
bool can_log_in(std::string_view shell) {
  const auto name = file_name(shell);
  return !shell.empty() && name != "nologin" && name != "false";
}

constexpr Field<Account> account_fields[] = {
    {"user_name", T::text, [](const Account& a) -> FieldValue { return a.name; }},
    {"uid", T::integer, [](const Account& a) -> FieldValue { return std::int64_t{a.uid}; }},
    {"gid", T::integer, [](const Account& a) -> FieldValue { return std::int64_t{a.gid}; }},
    {"user_group_name", T::text, [](const Account& a) -> FieldValue { return a.group; }},
    {"user_home_dir", T::text, [](const Account& a) -> FieldValue { return a.home; }},
    {"shell", T::text, [](const Account& a) -> FieldValue { return a.shell; }},
    {"login_permission", T::boolean,
     [](const Account& a) -> FieldValue { return can_log_in(a.shell); }},
    {"root_permission", T::boolean, [](const Account& a) -> FieldValue { return a.uid == 0; }},
};
constexpr std::string_view account_key[] = {"user_name"};

constexpr Field<ListeningPort> port_fields[] = {
    {"type", T::text, [](const ListeningPort& p) -> FieldValue { return to_string(p.type); }},
    {"port", T::integer, [](const ListeningPort& p) -> FieldValue { return std::int64_t{p.port}; }},
    {"laddr", T::text, [](const ListeningPort& p) -> FieldValue { return p.address; }},
    {"pid", T::integer, [](const ListeningPort& p) -> FieldValue { return std::int64_t{p.pid}; },
     Shown::as_stored, false},
    {"path", T::text, [](const ListeningPort& p) -> FieldValue { return p.exe; }},
};
constexpr std::string_view port_key[] = {"type", "port"};

constexpr Field<ProcessInfo> process_fields[] = {
    {"process_pid", T::integer,
     [](const ProcessInfo& p) -> FieldValue { return std::int64_t{p.pid}; }},
    {"process_path", T::text, [](const ProcessInfo& p) -> FieldValue { return p.exe; }},
    {"start_ticks", T::integer,
     [](const ProcessInfo& p) -> FieldValue { return static_cast<std::int64_t>(p.start_ticks); }},
    {"launch_params", T::text, [](const ProcessInfo& p) -> FieldValue { return p.command_line; }},
    {"launch_time", T::integer, [](const ProcessInfo& p) -> FieldValue { return p.start_ms; }},
    {"run_permission", T::text,
     [](const ProcessInfo& p) -> FieldValue { return std::int64_t{p.exe_mode}; }, Shown::file_mode},
    {"hash", T::text, [](const ProcessInfo& p) -> FieldValue { return p.exe; }, Shown::sha256_hex},
};
constexpr std::string_view process_key[] = {"process_pid"};

constexpr Field<SoftwarePackage> software_fields[] = {
    {"package_manager", T::text, [](const SoftwarePackage& s) -> FieldValue { return s.manager; }},
    {"app_name", T::text, [](const SoftwarePackage& s) -> FieldValue { return s.name; }},
    {"version", T::text, [](const SoftwarePackage& s) -> FieldValue { return s.version; }},
    {"architecture", T::text,
     [](const SoftwarePackage& s) -> FieldValue { return s.architecture; }},
};
constexpr std::string_view software_key[] = {"package_manager", "app_name", "architecture"};

constexpr Field<AutoStartItem> auto_start_fields[] = {
    {"type", T::integer,
     [](const AutoStartItem& a) -> FieldValue { return static_cast<std::int64_t>(a.type); }},
    {"name", T::text, [](const AutoStartItem& a) -> FieldValue { return a.name; }},
    {"path", T::text, [](const AutoStartItem& a) -> FieldValue { return a.path; }},
    {"run_user", T::text, [](const AutoStartItem& a) -> FieldValue { return a.user; }},
    {"command", T::text, [](const AutoStartItem& a) -> FieldValue { return a.command; }},
    {"hash", T::text, [](const AutoStartItem& a) -> FieldValue { return a.hash; }},
};
constexpr std::string_view auto_start_key[] = {"type", "name"};

constexpr Field<KernelModule> module_fields[] = {
    {"name", T::text, [](const KernelModule& m) -> FieldValue { return m.name; }},
    {"size", T::integer,
     [](const KernelModule& m) -> FieldValue { return static_cast<std::int64_t>(m.size); }},
    {"state", T::text, [](const KernelModule& m) -> FieldValue { return m.state; }},
    {"path", T::text, [](const KernelModule& m) -> FieldValue { return m.path; }},
    {"version", T::text, [](const KernelModule& m) -> FieldValue { return m.version; }},
    {"srcversion", T::text, [](const KernelModule& m) -> FieldValue { return m.srcversion; }},
};
constexpr std::string_view module_key[] = {"name"};

std::string_view catalogue(ProductCategory category) {
  switch (category) {
    case ProductCategory::database:
      return "database";
    case ProductCategory::web_app:
      return "web-app";
    default:
      return "web-service";
  }
}

constexpr Field<ServiceInstance> service_fields[] = {
    {"catalogue", T::text,
     [](const ServiceInstance& s) -> FieldValue { return catalogue(s.category); }},
    {"name", T::text, [](const ServiceInstance& s) -> FieldValue { return s.product; }},
    {"version", T::text, [](const ServiceInstance& s) -> FieldValue { return s.version; }},
    {"config_path", T::text, [](const ServiceInstance& s) -> FieldValue { return s.config_file; }},
    {"pid", T::integer, [](const ServiceInstance& s) -> FieldValue { return std::int64_t{s.pid}; }},
    {"proc_path", T::text, [](const ServiceInstance& s) -> FieldValue { return s.exe; }},
    {"install_path", T::text,
     [](const ServiceInstance& s) -> FieldValue { return s.install_path; }},
    {"uid", T::integer, [](const ServiceInstance& s) -> FieldValue { return std::int64_t{s.uid}; }},
    {"gid", T::integer, [](const ServiceInstance& s) -> FieldValue { return std::int64_t{s.gid}; }},
};
constexpr std::string_view service_key[] = {"pid"};

constexpr Field<ServedSite> site_fields[] = {
    {"domain", T::text,
     [](const ServedSite& s) -> FieldValue {
       return s.site.domains.empty() ? std::string_view{} : std::string_view(s.site.domains[0]);
     }},
    {"app_name", T::text, [](const ServedSite& s) -> FieldValue { return s.product; }},
    {"path", T::text, [](const ServedSite& s) -> FieldValue { return s.site.document_root; }},
    {"port", T::integer,
     [](const ServedSite& s) -> FieldValue {
       return s.site.ports.empty() ? std::int64_t{0} : std::int64_t{s.site.ports[0]};
     }},
    {"is_https", T::boolean, [](const ServedSite& s) -> FieldValue { return s.site.tls; }},
    {"pid", T::integer, [](const ServedSite& s) -> FieldValue { return std::int64_t{s.pid}; }},
    {"config_file", T::text, [](const ServedSite& s) -> FieldValue { return s.site.config_file; }},
    {"config_line", T::integer,
     [](const ServedSite& s) -> FieldValue { return static_cast<std::int64_t>(s.site.line); }},
    {"bind_addr", T::text, [](const ServedSite& s) -> FieldValue { return s.site.bind_address; }},
    {"proc_path", T::text, [](const ServedSite& s) -> FieldValue { return s.exe; }},
    {"cert_file", T::text,
     [](const ServedSite& s) -> FieldValue { return s.site.certificate_file; }},
    {"cert_issuer", T::text, [](const ServedSite& s) -> FieldValue { return s.cert_issuer; }},
    {"cert_user", T::text, [](const ServedSite& s) -> FieldValue { return s.cert_subject; }},
    {"cert_issue_time", T::integer,
     [](const ServedSite& s) -> FieldValue { return s.cert_not_before_ms; }},
    {"cert_expired_time", T::integer,
     [](const ServedSite& s) -> FieldValue { return s.cert_not_after_ms; }},
};
constexpr std::string_view site_key[] = {"pid", "config_file", "config_line"};

constexpr Field<WebApp> web_app_fields[] = {
    {"catalogue", T::text, [](const WebApp&) -> FieldValue { return std::string_view("web-app"); }},
    {"name", T::text, [](const WebApp& a) -> FieldValue { return a.product; }},
    {"version", T::text, [](const WebApp& a) -> FieldValue { return a.version; }},
    {"install_path", T::text, [](const WebApp& a) -> FieldValue { return a.path; }},
    {"pid", T::integer, [](const WebApp& a) -> FieldValue { return std::int64_t{a.pid}; },
     Shown::as_stored, false},
    {"proc_path", T::text, [](const WebApp& a) -> FieldValue { return a.exe; }},
    {"uid", T::integer, [](const WebApp& a) -> FieldValue { return std::int64_t{a.uid}; }},
    {"gid", T::integer, [](const WebApp& a) -> FieldValue { return std::int64_t{a.gid}; }},
};
constexpr std::string_view web_app_key[] = {"name", "install_path"};

// A JAR inside an archive is named "outer.jar!/inner.jar" (JarPackage::path).
bool is_nested(std::string_view path) { return path.find("!/") != std::string_view::npos; }
std::string_view outer_archive(std::string_view path) {
  const auto at = path.find("!/");
  return at == std::string_view::npos ? std::string_view{} : path.substr(0, at);
}

constexpr Field<WebFramework> framework_fields[] = {
    {"name", T::text, [](const WebFramework& f) -> FieldValue { return f.product; }},
    {"version", T::text, [](const WebFramework& f) -> FieldValue { return f.version; }},
    {"file_name", T::text, [](const WebFramework& f) -> FieldValue { return file_name(f.path); }},
    {"path", T::text, [](const WebFramework& f) -> FieldValue { return f.path; }},
    {"file_type", T::text, [](const WebFramework& f) -> FieldValue { return f.language; }},
    {"application", T::text, [](const WebFramework& f) -> FieldValue { return f.environment; }},
    {"pid", T::integer, [](const WebFramework& f) -> FieldValue { return std::int64_t{f.pid}; },
     Shown::as_stored, false},
    {"proc_path", T::text, [](const WebFramework& f) -> FieldValue { return f.exe; }},
    {"is_embedded", T::integer,
     [](const WebFramework& f) -> FieldValue { return std::int64_t{is_nested(f.path)}; }},
};
constexpr std::string_view framework_key[] = {"name", "application"};

constexpr Field<JarPackage> jar_fields[] = {
    {"file_name", T::text, [](const JarPackage& j) -> FieldValue { return file_name(j.path); }},
    {"name", T::text, [](const JarPackage& j) -> FieldValue { return j.name; }},
    {"version", T::text, [](const JarPackage& j) -> FieldValue { return j.version; }},
    {"group_id", T::text, [](const JarPackage& j) -> FieldValue { return j.group_id; }},
    {"path", T::text, [](const JarPackage& j) -> FieldValue { return j.path; }},
    {"pid", T::integer, [](const JarPackage& j) -> FieldValue { return std::int64_t{j.pid}; },
     Shown::as_stored, false},
    {"package_path", T::text,
     [](const JarPackage& j) -> FieldValue { return outer_archive(j.path); }},
    {"is_embedded", T::integer,
     [](const JarPackage& j) -> FieldValue { return std::int64_t{is_nested(j.path)}; }},
    {"size", T::integer,
     [](const JarPackage& j) -> FieldValue { return static_cast<std::int64_t>(j.size); }},
    {"hash", T::text, [](const JarPackage& j) -> FieldValue { return j.hash; }},
    {"proc_path", T::text, [](const JarPackage& j) -> FieldValue { return j.exe; }},
};
constexpr std::string_view jar_key[] = {"path"};

constexpr Field<ProtectedProcess> protected_fields[] = {
    {"pid", T::integer,
     [](const ProtectedProcess& p) -> FieldValue { return std::int64_t{p.pid}; }},
    {"agent", T::text, [](const ProtectedProcess& p) -> FieldValue { return p.agent; }},
    {"agent_file", T::text, [](const ProtectedProcess& p) -> FieldValue { return p.agent_file; }},
    {"rasp_home", T::text, [](const ProtectedProcess& p) -> FieldValue { return p.home; }},
    {"proc_path", T::text, [](const ProtectedProcess& p) -> FieldValue { return p.exe; }},
    {"app_type", T::text, [](const ProtectedProcess& p) -> FieldValue { return p.app_type; }},
    {"anti_tampering_num", T::integer,
     [](const ProtectedProcess& p) -> FieldValue { return p.blocked_attacks; }},
};
constexpr std::string_view protected_key[] = {"pid"};

CountField service_count(const ServiceInstance& s) {
  return s.category == ProductCategory::database ? &AssetStatistics::database_num
                                                 : &AssetStatistics::web_service_num;
}

// Protected processes feed the RASP figures, not /asset/statistics.
CountField no_count(const ProtectedProcess&) {
  return nullptr;
}

constexpr std::string_view kind_names[] = {
    "account",    "port",       "process", "app",           "auto_launch", "kernel_module",
    "web_service", "web_site", "web_app", "web_framework", "jar_package", "protected_process"};
static_assert(std::size(kind_names) == asset_kind_count);

}  // namespace

void append_value(std::string& out, const FieldValue& value) {
  if (const auto* text = std::get_if<std::string_view>(&value))
    out += *text;
  else if (const auto* number = std::get_if<std::int64_t>(&value))
    out += std::to_string(*number);
  else
    out += std::get<bool>(value) ? '1' : '0';
}

std::string shown_text(const FieldValue& stored, Shown how) {
  switch (how) {
    case Shown::sha256_hex:
      if (const auto* text = std::get_if<std::string_view>(&stored); text && !text->empty())
        return sha256_hex(*text);
      return {};
    case Shown::file_mode:
      if (const auto* mode = std::get_if<std::int64_t>(&stored); mode && *mode != 0)
        return file_mode_text(static_cast<unsigned>(*mode));
      return {};
    case Shown::as_stored:
      break;
  }
  std::string out;
  append_value(out, stored);
  return out;
}

std::string file_mode_text(unsigned mode) {
  std::string out(10, '-');
  switch (mode & 0170000) {
    case 0040000: out[0] = 'd'; break;
    case 0120000: out[0] = 'l'; break;
    case 0020000: out[0] = 'c'; break;
    case 0060000: out[0] = 'b'; break;
    case 0010000: out[0] = 'p'; break;
    case 0140000: out[0] = 's'; break;
    default: break;
  }
  static constexpr char letters[] = "rwx";
  for (int i = 0; i < 9; ++i)
    if (mode & (0400u >> i)) out[static_cast<std::size_t>(1 + i)] = letters[i % 3];
  // setuid, setgid, sticky: lowercase over x, uppercase without it.
  auto special = [&](unsigned bit, std::size_t at, char lower) {
    if (mode & bit) out[at] = out[at] == 'x' ? lower : static_cast<char>(lower - 32);
  };
  special(04000, 3, 's');
  special(02000, 6, 's');
  special(01000, 9, 't');
  return out;
}

std::uint64_t fields_digest_of(std::span<const FieldValue> values) {
  std::uint64_t hash = 1469598103934665603ull;
  auto mix = [&](std::string_view bytes) {
    for (unsigned char c : bytes) {
      hash ^= c;
      hash *= 1099511628211ull;
    }
  };
  std::string text;
  for (const auto& value : values) {
    text.clear();
    append_value(text, value);
    mix(text);
    mix(std::string_view("\x1f", 1));
  }
  return hash;
}

std::string_view kind_name(AssetKind kind) {
  return kind < asset_kind_count ? kind_names[kind] : std::string_view("unknown");
}

template <>
const AssetTable<Account>& table_of() {
  static const AssetTable<Account> t{kind_names[kind_id<Account>], account_fields, account_key,
                                     "user_name", always<&AssetStatistics::account_num>};
  return t;
}
template <>
const AssetTable<ListeningPort>& table_of() {
  static const AssetTable<ListeningPort> t{kind_names[kind_id<ListeningPort>], port_fields,
                                           port_key, "port", always<&AssetStatistics::port_num>};
  return t;
}
template <>
const AssetTable<ProcessInfo>& table_of() {
  static const AssetTable<ProcessInfo> t{kind_names[kind_id<ProcessInfo>], process_fields,
                                         process_key, "process_path",
                                         always<&AssetStatistics::process_num>,
                                         own_container<ProcessInfo>};
  return t;
}
template <>
const AssetTable<SoftwarePackage>& table_of() {
  static const AssetTable<SoftwarePackage> t{kind_names[kind_id<SoftwarePackage>],
                                             software_fields, software_key, "app_name",
                                             always<&AssetStatistics::app_num>};
  return t;
}
template <>
const AssetTable<AutoStartItem>& table_of() {
  static const AssetTable<AutoStartItem> t{kind_names[kind_id<AutoStartItem>], auto_start_fields,
                                           auto_start_key, "name",
                                           always<&AssetStatistics::auto_launch_num>};
  return t;
}
template <>
const AssetTable<KernelModule>& table_of() {
  static const AssetTable<KernelModule> t{kind_names[kind_id<KernelModule>], module_fields,
                                          module_key, "name",
                                          always<&AssetStatistics::kernel_module_num>};
  return t;
}
template <>
const AssetTable<ServiceInstance>& table_of() {
  static const AssetTable<ServiceInstance> t{kind_names[kind_id<ServiceInstance>], service_fields,
                                             service_key, "name", service_count,
                                             own_container<ServiceInstance>};
  return t;
}
template <>
const AssetTable<ServedSite>& table_of() {
  static const AssetTable<ServedSite> t{kind_names[kind_id<ServedSite>], site_fields, site_key,
                                        "domain", always<&AssetStatistics::web_site_num>,
                                        own_container<ServedSite>};
  return t;
}
template <>
const AssetTable<WebApp>& table_of() {
  static const AssetTable<WebApp> t{kind_names[kind_id<WebApp>], web_app_fields, web_app_key,
                                    "name", always<&AssetStatistics::web_app_num>,
                                    own_container<WebApp>};
  return t;
}
template <>
const AssetTable<WebFramework>& table_of() {
  static const AssetTable<WebFramework> t{kind_names[kind_id<WebFramework>], framework_fields,
                                          framework_key, "file_name",
                                          always<&AssetStatistics::web_framework_num>,
                                          own_container<WebFramework>};
  return t;
}
template <>
const AssetTable<JarPackage>& table_of() {
  static const AssetTable<JarPackage> t{kind_names[kind_id<JarPackage>], jar_fields, jar_key,
                                        "file_name", always<&AssetStatistics::jar_package_num>,
                                        own_container<JarPackage>};
  return t;
}
template <>
const AssetTable<ProtectedProcess>& table_of() {
  static const AssetTable<ProtectedProcess> t{kind_names[kind_id<ProtectedProcess>],
                                              protected_fields, protected_key, "agent", no_count,
                                              own_container<ProtectedProcess>};
  return t;
}

AssetStatistics count_assets(const AssetSet& assets, bool containers) {
  AssetStatistics counts;
  assets.each_kind([&](const auto& parts) {
    using Item = typename std::decay_t<decltype(parts)>::value_type::item_type;
    const auto& table = table_of<Item>();
    for_each_in_scope(parts, containers, [&](const Item& item) {
      if (const CountField field = table.count(item)) ++(counts.*field);
    });
  });
  return counts;
}

std::string_view to_string(PortType type) {
  switch (type) {
    case PortType::tcp:
      return "TCP";
    case PortType::tcp6:
      return "TCP6";
    case PortType::udp:
      return "UDP";
    case PortType::udp6:
      return "UDP6";
  }
  return "?";
}

std::string_view to_string(AutoStartType type) {
  switch (type) {
    case AutoStartType::service:
      return "service";
    case AutoStartType::scheduled_task:
      return "scheduled_task";
    case AutoStartType::preloaded_library:
      return "preloaded_library";
    case AutoStartType::startup_folder:
      return "startup_folder";
  }
  return "service";
}

std::string_view to_string(ProductCategory category) {
  switch (category) {
    case ProductCategory::web_service:
      return "web_service";
    case ProductCategory::database:
      return "database";
    case ProductCategory::web_app:
      return "web_app";
    case ProductCategory::web_framework:
      return "web_framework";
    case ProductCategory::rasp_agent:
      return "rasp_agent";
  }
  return "web_service";
}

}  // namespace hostprint::proto
