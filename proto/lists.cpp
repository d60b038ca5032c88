#include "proto/lists.hpp"

#include <algorithm>
#include <array>

namespace hostprint::proto {
namespace {

using T = FieldType;
using M = FilterMatch;
using V = FilterValue;
using S = ListShape;

// --- Shared pieces of the declarations ---

constexpr std::array<ListField, 4> host_fields{
    {{"host_id", T::text}, {"host_name", T::text}, {"host_ip", T::text}, {"agent_id", T::text}}};
constexpr std::array<ListField, 2> container_fields{
    {{"container_id", T::text}, {"container_name", T::text}}};

template <std::size_t... N>
constexpr auto join(const std::array<ListField, N>&... parts) {
  std::array<ListField, (N + ...)> out{};
  std::size_t i = 0;
  ((std::copy(parts.begin(), parts.end(), out.begin() + i), i += N), ...);
  return out;
}
template <class... F>
constexpr auto fields(F... f) {
  return std::array<ListField, sizeof...(F)>{ListField(f)...};
}

constexpr ListFilter host_filter{"host_id", "host_id", V::host_id, M::exact};

// --- Accounts ---
constexpr AssetKind account_kinds[] = {kind_id<Account>};
constexpr auto user_fields = join(fields(ListField{"user_name", T::text}, ListField{"login_permission", T::boolean}, ListField{"root_permission", T::boolean}, ListField{"user_group_name", T::text}, ListField{"user_home_dir", T::text}, ListField{"shell", T::text}), host_fields, container_fields, fields(ListField{"recent_scan_time", T::integer}, ListField{"first_scan_time", T::integer}));
constexpr ListFilter user_filters[] = {
    host_filter,
    {"user_name", "user_name", V::text, M::exact_unless_part_match},
    {"login_permission", "login_permission", V::boolean, M::exact},
    {"root_permission", "root_permission", V::boolean, M::exact}};
constexpr ListField user_statistics_fields[] = {{"user_name", T::text}, {"num", T::integer}};
constexpr std::string_view user_key[] = {"user_name"};
constexpr ListFilter user_statistics_filters[] = {{"user_name", "user_name", V::text, M::substring}};

// --- Ports ---
constexpr AssetKind port_kinds[] = {kind_id<ListeningPort>};
constexpr auto port_fields = join(fields(ListField{"port", T::integer}, ListField{"type", T::text}, ListField{"laddr", T::text}, ListField{"pid", T::integer}, ListField{"path", T::text}, ListField{"status", T::text, std::string_view("unknown")}), host_fields, container_fields);
constexpr ListFilter port_filters[] = {host_filter,
                                       {"port", "port", V::port, M::exact},
                                       {"type", "type", V::port_type, M::exact}};
constexpr ListField port_statistics_fields[] = {{"port", T::integer},
                                                {"type", T::text},
                                                {"num", T::integer},
                                                {"status", T::text, std::string_view("unknown")}};
constexpr std::string_view port_key[] = {"port", "type"};
constexpr ListFilter port_statistics_filters[] = {{"port", "port", V::port, M::exact},
                                                  {"type", "type", V::port_type, M::exact}};

// --- Processes ---
constexpr AssetKind process_kinds[] = {kind_id<ProcessInfo>};
constexpr auto process_fields = join(fields(ListField{"process_path", T::text}, ListField{"process_pid", T::integer}, ListField{"launch_params", T::text}, ListField{"launch_time", T::integer}, ListField{"run_permission", T::text}, ListField{"hash", T::text}), host_fields, container_fields);
constexpr ListFilter process_filters[] = {{"path", "process_path", V::text, M::exact}};

// --- Installed software ---
constexpr AssetKind app_kinds[] = {kind_id<SoftwarePackage>};
constexpr auto app_fields = join(fields(ListField{"app_name", T::text}, ListField{"version", T::text}, ListField{"install_dir", T::text}, ListField{"package_manager", T::text}, ListField{"architecture", T::text}), host_fields, container_fields, fields(ListField{"recent_scan_time", T::integer}, ListField{"update_time", T::integer}));
constexpr ListFilter app_filters[] = {host_filter,
                                      {"app_name", "app_name", V::text, M::exact_unless_part_match},
                                      {"version", "version", V::text, M::exact_unless_part_match}};
constexpr ListField app_statistics_fields[] = {{"app_name", T::text}, {"num", T::integer}};
constexpr std::string_view app_key[] = {"app_name"};
constexpr ListFilter app_statistics_filters[] = {{"app_name", "app_name", V::text, M::substring}};

// --- Auto-start items ---
constexpr AssetKind auto_start_kinds[] = {kind_id<AutoStartItem>};
constexpr auto auto_start_fields = join(fields(ListField{"name", T::text}, ListField{"type", T::integer}, ListField{"path", T::text}, ListField{"hash", T::text}, ListField{"run_user", T::text}), host_fields, container_fields, fields(ListField{"recent_scan_time", T::integer}));
constexpr ListFilter auto_start_filters[] = {
    host_filter,
    {"name", "name", V::text, M::exact_unless_part_match},
    {"type", "type", V::auto_start_type, M::exact}};
constexpr ListField auto_start_statistics_fields[] = {
    {"name", T::text}, {"type", T::integer}, {"num", T::integer}};
constexpr std::string_view auto_start_key[] = {"name", "type"};
constexpr ListFilter auto_start_statistics_filters[] = {
    {"name", "name", V::text, M::substring}, {"type", "type", V::auto_start_type, M::exact}};

// --- Kernel modules ---
constexpr AssetKind module_kinds[] = {kind_id<KernelModule>};
constexpr ListField module_fields[] = {{"name", T::text},    {"size", T::integer},
                                       {"path", T::text},    {"version", T::text},
                                       {"srcversion", T::text}, {"record_time", T::integer}};
constexpr ListFilter module_filters[] = {{"name", "name", V::text, M::exact}};
constexpr ListField module_statistics_fields[] = {{"name", T::text}, {"num", T::integer}};
constexpr std::string_view module_key[] = {"name"};
constexpr ListFilter module_statistics_filters[] = {{"name", "name", V::text, M::substring}};

// --- Web frameworks ---
constexpr AssetKind framework_kinds[] = {kind_id<WebFramework>};
constexpr auto framework_fields = join(fields(ListField{"name", T::text}, ListField{"version", T::text}, ListField{"file_name", T::text}, ListField{"path", T::text}, ListField{"catalogue", T::text, std::string_view("web_framework")}, ListField{"file_type", T::text}, ListField{"pid", T::integer}, ListField{"proc_path", T::text}, ListField{"is_embedded", T::integer}), container_fields, fields(ListField{"record_time", T::integer}));
constexpr ListFilter framework_filters[] = {{"file_name", "file_name", V::text, M::exact}};
constexpr ListField file_name_statistics_fields[] = {{"file_name", T::text}, {"num", T::integer}};
constexpr std::string_view file_name_key[] = {"file_name"};
constexpr ListFilter file_name_statistics_filters[] = {
    {"file_name", "file_name", V::text, M::substring}};

// --- Web sites ---
constexpr AssetKind site_kinds[] = {kind_id<ServedSite>};
constexpr auto site_fields = join(fields(ListField{"domain", T::text}, ListField{"app_name", T::text}, ListField{"path", T::text}, ListField{"port", T::integer}, ListField{"bind_addr", T::text}, ListField{"url_path", T::text, std::string_view("/")}, ListField{"is_https", T::boolean}, ListField{"pid", T::integer}, ListField{"proc_path", T::text}, ListField{"cert_issuer", T::text}, ListField{"cert_user", T::text}, ListField{"cert_issue_time", T::integer}, ListField{"cert_expired_time", T::integer}), container_fields, fields(ListField{"record_time", T::integer}));
constexpr ListFilter site_filters[] = {{"domain", "domain", V::text, M::exact}};
constexpr ListField site_statistics_fields[] = {{"domain", T::text}, {"num", T::integer}};
constexpr std::string_view site_key[] = {"domain"};
constexpr ListFilter site_statistics_filters[] = {{"domain", "domain", V::text, M::substring}};

// --- Web applications, web services and databases: one list, chosen by catalogue ---
constexpr AssetKind instance_kinds[] = {kind_id<ServiceInstance>, kind_id<WebApp>};
constexpr auto instance_fields = join(fields(ListField{"catalogue", T::text}, ListField{"name", T::text}, ListField{"version", T::text}, ListField{"install_path", T::text}, ListField{"config_path", T::text}, ListField{"pid", T::integer}, ListField{"proc_path", T::text}, ListField{"uid", T::integer}, ListField{"gid", T::integer}), host_fields, container_fields, fields(ListField{"record_time", T::integer}));
constexpr ListFilter catalogue_filter{"catalogue", "catalogue", V::catalogue, M::exact};
constexpr ListFilter instance_filters[] = {
    catalogue_filter,
    {"name", "name", V::text, M::exact_unless_part_match},
    {"version", "version", V::text, M::exact_unless_part_match}};
constexpr ListField instance_statistics_fields[] = {{"name", T::text}, {"num", T::integer}};
constexpr std::string_view instance_key[] = {"name"};
constexpr ListFilter instance_statistics_filters[] = {catalogue_filter,
                                                      {"name", "name", V::text, M::substring}};

// --- JAR packages ---
constexpr AssetKind jar_kinds[] = {kind_id<JarPackage>};
constexpr auto jar_fields = join(fields(ListField{"file_name", T::text}, ListField{"name", T::text}, ListField{"version", T::text}, ListField{"path", T::text}, ListField{"package_path", T::text}, ListField{"is_embedded", T::integer}, ListField{"file_type", T::text, std::string_view("jar")}, ListField{"catalogue", T::text, std::string_view("util")}, ListField{"size", T::integer}, ListField{"hash", T::text}, ListField{"pid", T::integer}, ListField{"proc_path", T::text}), container_fields, fields(ListField{"record_time", T::integer}));
constexpr ListFilter jar_filters[] = {{"file_name", "file_name", V::text, M::exact}};

// --- Processes a RASP agent protects ---
constexpr AssetKind protected_kinds[] = {kind_id<ProtectedProcess>};
constexpr ListField protected_fields[] = {{"pid", T::integer},
                                          {"proc_path", T::text},
                                          {"app_type", T::text},
                                          {"agent", T::text},
                                          {"protect_status", T::integer, std::int64_t{1}},
                                          {"anti_tampering_num", T::integer}};
constexpr ListFilter protected_filters[] = {{"keyword", "proc_path", V::text, M::substring}};

// --- Change history: what appeared, went or changed between two scans ---
constexpr std::string_view upper_change_words[] = {"ADD", "DELETE", "MODIFY"};
constexpr std::string_view lower_change_words[] = {"add", "delete", "modify"};
constexpr ListFilter start_filter{"start_time", "recent_scan_time", V::epoch_ms, M::at_least};
constexpr ListFilter end_filter{"end_time", "recent_scan_time", V::epoch_ms, M::at_most};
constexpr ListFilter variation_filter{"variation_type", "variation_type", V::change_type,
                                      M::exact};
constexpr auto scan_time_field = fields(ListField{"recent_scan_time", T::integer});

constexpr auto user_change_fields = join(fields(ListField{"change_type", T::text}, ListField{"user_name", T::text}, ListField{"login_permission", T::boolean}, ListField{"root_permission", T::boolean}, ListField{"user_group_name", T::text}, ListField{"user_home_dir", T::text}, ListField{"shell", T::text}), host_fields, scan_time_field);
constexpr ListFilter user_change_filters[] = {
    host_filter,
    {"user_name", "user_name", V::text, M::exact},
    {"root_permission", "root_permission", V::boolean, M::exact},
    {"change_type", "change_type", V::change_type, M::exact},
    start_filter,
    end_filter};

constexpr auto app_change_fields = join(fields(ListField{"variation_type", T::text}, ListField{"app_name", T::text}, ListField{"version", T::text}), host_fields, fields(ListField{"update_time", T::integer}), scan_time_field);
constexpr ListFilter app_change_filters[] = {
    host_filter, {"app_name", "app_name", V::text, M::exact}, variation_filter, start_filter,
    end_filter};

constexpr auto auto_start_change_fields = join(fields(ListField{"name", T::text}, ListField{"type", T::integer}, ListField{"path", T::text}, ListField{"hash", T::text}, ListField{"run_user", T::text}, ListField{"variation_type", T::text}), host_fields, scan_time_field);
constexpr ListFilter auto_start_change_filters[] = {
    host_filter,
    {"auto_launch_name", "name", V::text, M::exact},
    {"type", "type", V::auto_start_type, M::exact},
    variation_filter,
    start_filter,
    end_filter};

constexpr auto port_change_fields = join(fields(ListField{"port", T::integer}, ListField{"type", T::text}, ListField{"variation_type", T::text}), host_fields, scan_time_field);
constexpr ListFilter port_change_filters[] = {host_filter,
                                              {"port", "port", V::port, M::exact},
                                              {"type", "type", V::port_type, M::exact},
                                              variation_filter,
                                              start_filter,
                                              end_filter};

constexpr auto module_change_fields = join(fields(ListField{"name", T::text}, ListField{"size", T::integer}, ListField{"variation_type", T::text}), host_fields, scan_time_field);
constexpr ListFilter module_change_filters[] = {
    host_filter, {"name", "name", V::text, M::exact}, variation_filter, start_filter, end_filter};

const ListEndpoint endpoints[] = {
    {"/asset/users", S::items, account_kinds, user_fields, {}, user_filters, true, true},
    {"/asset/user/statistics", S::statistics, account_kinds, user_statistics_fields, user_key,
     user_statistics_filters, true},
    {"/asset/ports", S::items, port_kinds, port_fields, {}, port_filters, true},
    {"/asset/port/statistics", S::statistics, port_kinds, port_statistics_fields, port_key,
     port_statistics_filters, true},
    {"/asset/processes/detail", S::items, process_kinds, process_fields, {}, process_filters, true},
    {"/asset/apps", S::items, app_kinds, app_fields, {}, app_filters, true, true},
    {"/asset/app/statistics", S::statistics, app_kinds, app_statistics_fields, app_key,
     app_statistics_filters, true},
    {"/asset/auto-launchs", S::items, auto_start_kinds, auto_start_fields, {}, auto_start_filters,
     true, true},
    {"/asset/auto-launch/statistics", S::statistics, auto_start_kinds,
     auto_start_statistics_fields, auto_start_key, auto_start_statistics_filters, true},
    {"/asset/{host_id}/kernel-module", S::items, module_kinds, module_fields, {}, module_filters},
    {"/asset/statistics/kernel-module", S::statistics, module_kinds, module_statistics_fields,
     module_key, module_statistics_filters},
    {"/asset/{host_id}/web-framework", S::items, framework_kinds, framework_fields, {},
     framework_filters, true},
    {"/asset/statistics/web-framework", S::statistics, framework_kinds,
     file_name_statistics_fields, file_name_key, file_name_statistics_filters, true},
    {"/asset/{host_id}/web-site", S::items, site_kinds, site_fields, {}, site_filters, true},
    {"/asset/statistics/web-site", S::statistics, site_kinds, site_statistics_fields, site_key,
     site_statistics_filters, true},
    {"/asset/web-app-and-services", S::items, instance_kinds, instance_fields, {},
     instance_filters, true, true, "catalogue"},
    {"/asset/web-app-and-service-statistics", S::statistics, instance_kinds,
     instance_statistics_fields, instance_key, instance_statistics_filters, true, false,
     "catalogue"},
    {"/asset/{host_id}/jar-package", S::items, jar_kinds, jar_fields, {}, jar_filters, true},
    {"/asset/midwares", S::statistics, jar_kinds, file_name_statistics_fields, file_name_key,
     file_name_statistics_filters, true},
    {"/rasp/servers/{host_id}/applications", S::items, protected_kinds, protected_fields, {},
     protected_filters},
    {.path = "/asset/user/change-history", .shape = S::changes, .kinds = account_kinds,
     .fields = user_change_fields, .filters = user_change_filters, .change_field = "change_type",
     .change_words = upper_change_words, .sorting = true},
    {.path = "/asset/app/change-history", .shape = S::changes, .kinds = app_kinds,
     .fields = app_change_fields, .filters = app_change_filters,
     .change_field = "variation_type", .change_words = lower_change_words, .sorting = true},
    {.path = "/asset/auto-launch/change-history", .shape = S::changes, .kinds = auto_start_kinds,
     .fields = auto_start_change_fields, .filters = auto_start_change_filters,
     .change_field = "variation_type", .change_words = lower_change_words, .sorting = true},
    {.path = "/asset/port/change-history", .shape = S::changes, .kinds = port_kinds,
     .fields = port_change_fields, .filters = port_change_filters,
     .change_field = "variation_type", .change_words = lower_change_words, .sorting = true},
    {.path = "/asset/kernel-module/change-history", .shape = S::changes, .kinds = module_kinds,
     .fields = module_change_fields, .filters = module_change_filters,
     .change_field = "variation_type", .change_words = lower_change_words, .sorting = true},
};

// Matches `path` against a declared pattern; the {host_id} segment is returned raw.
bool matches(std::string_view pattern, std::string_view path, std::string_view& host_segment) {
  constexpr std::string_view hole = "{host_id}";
  const auto at = pattern.find(hole);
  if (at == std::string_view::npos) return pattern == path;
  const auto before = pattern.substr(0, at), after = pattern.substr(at + hole.size());
  if (path.size() <= before.size() + after.size() || !path.starts_with(before) ||
      !path.ends_with(after))
    return false;
  host_segment = path.substr(before.size(), path.size() - before.size() - after.size());
  return host_segment.find('/') == std::string_view::npos;
}

std::variant<ListCondition, ApiError> condition(const ListEndpoint& endpoint,
                                                const ListFilter& filter, std::string_view raw) {
  ListCondition c{&filter, {}, 0};
  const auto name = filter.parameter;
  switch (filter.value) {
    case V::text:
    case V::host_id: {
      auto value = string_parameter(
          name, raw, filter.value == V::host_id ? max_host_id_length : max_path_filter_length);
      if (auto* e = std::get_if<ApiError>(&value)) return std::move(*e);
      c.text = std::move(std::get<std::string>(value));
      return c;
    }
    case V::port: {
      auto value = integer_parameter(name, raw, 1, 65535);
      if (auto* e = std::get_if<ApiError>(&value)) return std::move(*e);
      c.number = std::get<std::uint32_t>(value);
      c.text = std::to_string(c.number);
      return c;
    }
    case V::boolean: {
      auto value = boolean_parameter(name, raw);
      if (auto* e = std::get_if<ApiError>(&value)) return std::move(*e);
      c.number = std::get<bool>(value) ? 1 : 0;
      c.text = c.number ? "true" : "false";
      return c;
    }
    case V::auto_start_type: {
      auto value = integer_parameter(name, raw, 0, 4);
      if (auto* e = std::get_if<ApiError>(&value) ; e || std::get<std::uint32_t>(value) == 3)
        return invalid_parameter(name, "type must be 0 (service), 1 (scheduled task), "
                                       "2 (preloaded library) or 4 (startup folder)");
      c.number = std::get<std::uint32_t>(value);
      c.text = std::to_string(c.number);
      return c;
    }
    case V::epoch_ms: {
      auto decoded = percent_decode(raw);
      std::int64_t ms = -1;
      if (decoded && !decoded->empty() && decoded->size() <= 16 &&
          decoded->find_first_not_of("0123456789") == std::string::npos)
        ms = std::stoll(*decoded);
      if (ms < 0)
        return invalid_parameter(name, std::string(name) + " must be a time in epoch milliseconds");
      c.number = ms;
      c.text = std::to_string(ms);
      return c;
    }
    case V::change_type: {
      auto decoded = percent_decode(raw);
      for (auto word : endpoint.change_words)
        if (decoded && *decoded == word) {
          c.text = std::move(*decoded);
          return c;
        }
      std::string allowed;
      for (auto word : endpoint.change_words)
        allowed += (allowed.empty() ? "" : ", ") + std::string(word);
      return invalid_parameter(name, std::string(name) + " must be one of " + allowed);
    }
    case V::port_type:
    case V::catalogue: {
      static constexpr std::array<std::string_view, 4> port_types{"TCP", "TCP6", "UDP", "UDP6"};
      static constexpr std::array<std::string_view, 3> catalogues{"web-app", "web-service",
                                                                  "database"};
      const bool ports = filter.value == V::port_type;
      auto decoded = percent_decode(raw);
      if (decoded)
        for (auto allowed : ports ? std::span<const std::string_view>(port_types)
                                  : std::span<const std::string_view>(catalogues))
          if (*decoded == allowed) {
            c.text = std::move(*decoded);
            return c;
          }
      return invalid_parameter(name, ports ? "type must be TCP, TCP6, UDP or UDP6"
                                           : "catalogue must be web-app, web-service or database");
    }
  }
  return c;
}

}  // namespace

std::span<const ListEndpoint> list_endpoints() { return endpoints; }

std::bitset<asset_kind_count> change_history_kinds() {
  std::bitset<asset_kind_count> kinds;
  for (const auto& endpoint : endpoints)
    if (endpoint.shape == S::changes)
      for (auto kind : endpoint.kinds) kinds.set(kind);
  return kinds;
}

std::optional<ListMatch> match_list_path(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  path = path.substr(0, path.find('#'));
  constexpr std::string_view prefix = "/v5/";
  if (!path.starts_with(prefix)) return std::nullopt;
  path.remove_prefix(prefix.size());
  const auto slash = path.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view raw_project = path.substr(0, slash), rest = path.substr(slash);
  // Literal paths first: /asset/statistics/web-site is not the web sites of host "statistics".
  // One pass over the table: every API request comes here, and most match nothing.
  static const auto literal = [] {
    std::array<bool, std::size(endpoints)> is{};
    for (std::size_t i = 0; i < is.size(); ++i)
      is[i] = endpoints[i].path.find('{') == std::string_view::npos;
    return is;
  }();
  const ListEndpoint* found = nullptr;
  const ListEndpoint* templated = nullptr;
  std::string_view raw_host, segment;
  for (std::size_t i = 0; i < std::size(endpoints) && !found; ++i) {
    if (literal[i]) {
      if (endpoints[i].path == rest) found = &endpoints[i];
    } else if (!templated && matches(endpoints[i].path, rest, segment)) {
      templated = &endpoints[i];
      raw_host = segment;
    }
  }
  if (found)
    raw_host = {};
  else
    found = templated;
  if (found) {
    const auto& endpoint = *found;
    ListMatch match{&endpoint, {}, {}, std::nullopt};
    auto project = string_parameter("project_id", raw_project, max_id_length);
    if (auto* e = std::get_if<ApiError>(&project)) {
      match.error = std::move(*e);
      return match;
    }
    match.project_id = std::move(std::get<std::string>(project));
    if (!raw_host.empty()) {
      auto host = string_parameter("host_id", raw_host, max_host_id_length);
      if (auto* e = std::get_if<ApiError>(&host))
        match.error = std::move(*e);
      else
        match.path_host_id = std::move(std::get<std::string>(host));
    }
    return match;
  }
  return std::nullopt;
}

std::variant<ListQuery, ApiError> parse_list_query(const ListMatch& match,
                                                   std::string_view target) {
  const ListEndpoint& endpoint = *match.endpoint;
  std::vector<std::string_view> known{"limit", "offset", "enterprise_project_id"};
  if (endpoint.category) known.push_back("category");
  if (endpoint.part_match) known.push_back("part_match");
  if (endpoint.sorting) {
    known.push_back("sort_key");
    known.push_back("sort_dir");
  }
  for (const auto& f : endpoint.filters) known.push_back(f.parameter);
  auto split = split_parameters(target, known);
  if (auto* e = std::get_if<ApiError>(&split)) return std::move(*e);

  ListQuery q;
  q.endpoint = &endpoint;
  q.path_host_id = match.path_host_id;
  for (const auto& p : std::get<std::vector<RawParameter>>(split)) {
    std::optional<ApiError> error;
    if (p.name == "limit") {
      auto v = integer_parameter(p.name, p.raw_value, 1, 200);
      if (auto* e = std::get_if<ApiError>(&v)) return std::move(*e);
      q.limit = std::get<std::uint32_t>(v);
    } else if (p.name == "offset") {
      auto v = integer_parameter(p.name, p.raw_value, 0, 2'000'000);
      if (auto* e = std::get_if<ApiError>(&v)) return std::move(*e);
      q.offset = std::get<std::uint32_t>(v);
    } else if (p.name == "enterprise_project_id") {
      auto v = string_parameter(p.name, p.raw_value, max_id_length);
      if (auto* e = std::get_if<ApiError>(&v)) return std::move(*e);
      q.enterprise_project_id = std::move(std::get<std::string>(v));
    } else if (p.name == "category") {
      auto v = category_parameter(p.raw_value);
      if (auto* e = std::get_if<ApiError>(&v)) return std::move(*e);
      q.category = std::get<Category>(v);
    } else if (p.name == "sort_key") {
      auto decoded = percent_decode(p.raw_value);
      if (!decoded || *decoded != "recent_scan_time")
        return invalid_parameter(p.name, "sort_key must be recent_scan_time");
    } else if (p.name == "sort_dir") {
      auto decoded = percent_decode(p.raw_value);
      if (!decoded || (*decoded != "asc" && *decoded != "desc"))
        return invalid_parameter(p.name, "sort_dir must be asc or desc");
      q.ascending = *decoded == "asc";
    } else if (p.name == "part_match") {
      auto v = boolean_parameter(p.name, p.raw_value);
      if (auto* e = std::get_if<ApiError>(&v)) return std::move(*e);
      q.part_match = std::get<bool>(v);
    } else {
      for (const auto& f : endpoint.filters) {
        if (f.parameter != p.name) continue;
        auto c = condition(endpoint, f, p.raw_value);
        if (auto* e = std::get_if<ApiError>(&c)) return std::move(*e);
        q.conditions.push_back(std::move(std::get<ListCondition>(c)));
      }
    }
  }
  if (!endpoint.required_filter.empty()) {
    bool given = false;
    for (const auto& c : q.conditions) given = given || c.filter->parameter == endpoint.required_filter;
    if (!given)
      return invalid_parameter(endpoint.required_filter,
                               std::string(endpoint.required_filter) + " is required");
  }
  return q;
}

}  // namespace hostprint::proto
