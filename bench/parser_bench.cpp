// Time limits on the parsers' largest and most hostile inputs. They were wall-clock checks in the
// unit tests, where a busy machine or a sanitizer build made them fail for no defect; the unit
// tests keep the same inputs and check what is read, this program checks how long it takes.
//
//   parser_bench      one line per input: its time and its limit; exit 1 when one is over
#include <fnmatch.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "collectors/formats/cron.hpp"
#include "collectors/formats/dpkg.hpp"
#include "collectors/formats/passwd.hpp"
#include "collectors/formats/proc_net.hpp"
#include "collectors/formats/web_config.hpp"

using namespace hostprint::collectors;

namespace {

// Files in memory, globbed as the shell globs (enough for the parsers' include patterns).
FileSource memory_files(const std::map<std::string, std::string>& files) {
  return FileSource{
      [&files](const std::string& path, std::size_t max_bytes) -> std::optional<std::string> {
        auto it = files.find(path);
        if (it == files.end()) return std::nullopt;
        return it->second.substr(0, max_bytes);
      },
      [&files](const std::string& pattern, std::size_t max_matches) {
        std::vector<std::string> matches;
        for (const auto& [path, content] : files) {
          if (matches.size() >= max_matches) break;
          if (fnmatch(pattern.c_str(), path.c_str(), FNM_PATHNAME | FNM_PERIOD) == 0)
            matches.push_back(path);
        }
        return matches;
      }};
}

std::string dpkg_stanza(int i) {
  const auto name = "p" + std::to_string(i);
  return "Package: " + name +
         "\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: 1.0"
         "\nDescription: the " +
         name + " package\n more about it\n .\n and more\n\n";
}

struct Case {
  const char* name;
  double limit_s;
  std::function<bool()> run;  // false: the parser read something other than expected
};

}  // namespace

int main() {
  std::string passwd, crontab, dpkg, proc_net(std::size_t{32} * 1024 * 1024, 'A');
  for (int i = 0; i < 200000; ++i)
    passwd += "user" + std::to_string(i) + ":x:" + std::to_string(i) + ":100::/home/u:/bin/sh\n";
  for (int i = 0; i < 200000; ++i) crontab += "* * * * * root job" + std::to_string(i) + "\n";
  for (int i = 0; i < 100000; ++i) dpkg += dpkg_stanza(i);
  proc_net += '\n';
  while (proc_net.size() < std::size_t{64} * 1024 * 1024)
    proc_net += "   1: 00000000:ZZZZ 00000000:0000 0A\n";
  proc_net += "   2: 00000000:0016 00000000:0000 0A\n";
  std::map<std::string, std::string> nginx{
      {"/etc/nginx/nginx.conf", "http { include /etc/nginx/conf.d/*.conf; }\n"}};
  for (int i = 0; i < 10'000; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "/etc/nginx/conf.d/%05d.conf", i);
    nginx[name] = "server { listen 80; server_name s" + std::to_string(i) + "; }\n";
  }
  std::string apache = "Define a " + std::string(1000, 'x') + "\n<VirtualHost *:80>\n";
  for (int i = 0; i < 5000; ++i) apache += "  ServerAlias ${a} ${a}\n";  // 10 MB substituted
  apache += "</VirtualHost>\n";
  std::map<std::string, std::string> apache_files{{"/etc/apache2/apache2.conf", apache}};

  const Case cases[] = {
      {"passwd, 200,000 entries", 10,
       [&] { return parse_passwd(passwd).accounts.size() == 200000; }},
      {"crontab, 200,000 lines", 10,
       [&] { return parse_crontab(crontab, CronTableKind::system).jobs.size() == 200000; }},
      {"dpkg status, 100,000 stanzas", 10,
       [&] { return installed_dpkg_packages(parse_dpkg_status(dpkg).records).size() == 100000; }},
      {"/proc/net/tcp, 64 MiB of junk", 10,
       [&] { return parse_proc_net(proc_net, hostprint::proto::PortType::tcp).ports.size() == 1; }},
      {"nginx, a glob of 10,000 files", 5,
       [&] { return parse_nginx({}, memory_files(nginx)).sites.size() == 999; }},
      {"apache, ${VAR} past 1 MiB in all", 2,
       [&] {
         ConfigLimits limits;
         limits.max_total_bytes = 1 << 20;
         return parse_apache({}, memory_files(apache_files), limits).sites.size() == 1;
       }},
  };
  int over = 0;
  for (const auto& c : cases) {
    const auto start = std::chrono::steady_clock::now();
    const bool read_right = c.run();
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const bool ok = read_right && took < c.limit_s;
    over += !ok;
    std::printf("%-36s %7.3f s (limit %g s)%s\n", c.name, took, c.limit_s,
                ok ? "" : read_right ? "  OVER" : "  WRONG RESULT");
  }
  return over ? 1 : 0;
}
