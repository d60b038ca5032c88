#include "collectors/formats/web_config.hpp"

#include <fnmatch.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/web_sites.hpp"
#include "tests/temp_dir.hpp"

namespace hostprint::collectors {
namespace {

using Strings = std::vector<std::string>;
using Ports = std::vector<unsigned>;

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << '"' << text << "\" does not contain \"" << part << '"';
}

// Files in memory: a path → content map, with a glob over its keys as the shell matches them.
struct MemoryFiles {
  std::map<std::string, std::string> files;
  std::vector<std::string> reads;
  std::vector<std::size_t> glob_bounds;

  FileSource source() {
    return FileSource{
        [this](const std::string& path, std::size_t max_bytes) -> std::optional<std::string> {
          reads.push_back(path);
          auto it = files.find(path);
          if (it == files.end()) return std::nullopt;
          return it->second.substr(0, max_bytes);
        },
        [this](const std::string& pattern, std::size_t max_matches) {
          glob_bounds.push_back(max_matches);
          // The files and the directories that hold them.
          std::set<std::string> paths;
          for (const auto& [path, content] : files) {
            paths.insert(path);
            for (auto slash = path.rfind('/'); slash != std::string::npos && slash > 0;
                 slash = path.rfind('/', slash - 1)) {
              paths.insert(path.substr(0, slash));
            }
          }
          std::vector<std::string> matches;
          for (const auto& path : paths) {
            if (matches.size() >= max_matches) break;
            if (fnmatch(pattern.c_str(), path.c_str(), FNM_PATHNAME | FNM_PERIOD) == 0) {
              matches.push_back(path);
            }
          }
          return matches;
        }};
  }
};

const WebSite* site_named(const WebConfig& config, const std::string& domain) {
  for (const auto& site : config.sites) {
    if (std::find(site.domains.begin(), site.domains.end(), domain) != site.domains.end()) {
      return &site;
    }
  }
  return nullptr;
}

std::size_t line_of(std::string_view text, std::string_view needle) {
  auto at = text.find(needle);
  return at == std::string_view::npos
             ? 0
             : 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + at, '\n'));
}

bool has_error(const WebConfig& config, const std::string& part) {
  return std::any_of(config.errors.begin(), config.errors.end(),
                     [&](const std::string& e) { return e.find(part) != std::string::npos; });
}

std::string all_errors(const WebConfig& config) {
  std::string text;
  for (const auto& e : config.errors) text += e + "\n";
  return text;
}

// ---------------------------------------------------------------------------------------------
// nginx

// Debian bookworm's /etc/nginx/nginx.conf.
constexpr const char* debian_nginx_conf = R"CONF(user www-data;
worker_processes auto;
pid /run/nginx.pid;
error_log /var/log/nginx/error.log;
include /etc/nginx/modules-enabled/*.conf;

events {
	worker_connections 768;
	# multi_accept on;
}

http {

	##
	# Basic Settings
	##

	sendfile on;
	tcp_nopush on;
	types_hash_max_size 2048;
	# server_tokens off;

	# server_names_hash_bucket_size 64;
	# server_name_in_redirect off;

	include /etc/nginx/mime.types;
	default_type application/octet-stream;

	##
	# SSL Settings
	##

	ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; # Dropping SSLv3, ref: POODLE
	ssl_prefer_server_ciphers on;

	##
	# Logging Settings
	##

	access_log /var/log/nginx/access.log;

	##
	# Gzip Settings
	##

	gzip on;

	# gzip_vary on;
	# gzip_proxied any;
	# gzip_comp_level 6;
	# gzip_buffers 16 8k;
	# gzip_http_version 1.1;
	# gzip_types text/plain text/css application/json application/javascript text/xml application/xml application/xml+rss text/javascript;

	##
	# Virtual Host Configs
	##

	include /etc/nginx/conf.d/*.conf;
	include /etc/nginx/sites-enabled/*;
}


#mail {
#	# See sample authentication script at:
#	# http://wiki.nginx.org/ImapAuthenticateWithApachePhpScript
#
#	# auth_http localhost/auth.php;
#	# pop3_capabilities "TOP" "USER";
#	# imap_capabilities "IMAP4rev1" "UIDPLUS";
#
#	server {
#		listen     localhost:110;
#		protocol   pop3;
#		proxy      on;
#	}
#}
)CONF";

constexpr const char* debian_nginx_default_site = R"CONF(##
# You should look at the following URL's in order to grasp a solid understanding
# of Nginx configuration files in order to fully unleash the power of Nginx.
##

# Default server configuration
#
server {
	listen 80 default_server;
	listen [::]:80 default_server;

	# SSL configuration
	#
	# listen 443 ssl default_server;
	# listen [::]:443 ssl default_server;
	#
	# include snippets/snakeoil.conf;

	root /var/www/html;

	# Add index.php to the list if you are using PHP
	index index.html index.htm index.nginx-debian.html;

	server_name _;

	location / {
		# First attempt to serve request as file, then
		# as directory, then fall back to displaying a 404.
		try_files $uri $uri/ =404;
	}

	# pass PHP scripts to FastCGI server
	#
	#location ~ \.php$ {
	#	include snippets/fastcgi-php.conf;
	#	fastcgi_pass unix:/run/php/php7.4-fpm.sock;
	#}
}


# Virtual Host configuration for example.com
#
#server {
#	listen 80;
#	listen [::]:80;
#
#	server_name example.com;
#
#	root /var/www/example.com;
#	index index.html;
#}
)CONF";

constexpr const char* shop_site = R"CONF(server {
	listen 443 ssl http2;
	listen [::]:443 ssl http2;
	server_name shop.example www.shop.example;
	include snippets/snakeoil.conf;
	root /srv/shop/public;
	location ~ \.php$ {
		include snippets/fastcgi-php.conf;
		fastcgi_pass unix:/run/php/php8.2-fpm.sock;
		root /srv/elsewhere;
	}
}
)CONF";

MemoryFiles debian_nginx() {
  MemoryFiles fs;
  fs.files["/etc/nginx/nginx.conf"] = debian_nginx_conf;
  fs.files["/etc/nginx/mime.types"] =
      "types {\n    text/html                             html htm shtml;\n"
      "    text/css                              css;\n"
      "    application/javascript                js;\n}\n";
  fs.files["/etc/nginx/modules-enabled/50-mod-http-geoip.conf"] =
      "load_module modules/ngx_http_geoip_module.so;\n";
  fs.files["/etc/nginx/modules-enabled/50-mod-stream.conf"] =
      "load_module modules/ngx_stream_module.so;\n";
  fs.files["/etc/nginx/snippets/snakeoil.conf"] =
      "ssl_certificate /etc/ssl/certs/ssl-cert-snakeoil.pem;\n"
      "ssl_certificate_key /etc/ssl/private/ssl-cert-snakeoil.key;\n";
  fs.files["/etc/nginx/snippets/fastcgi-php.conf"] =
      "fastcgi_split_path_info ^(.+?\\.php)(/.*)$;\n"
      "try_files $fastcgi_script_name =404;\n"
      "set $path_info $fastcgi_path_info;\n"
      "fastcgi_param PATH_INFO $path_info;\n"
      "fastcgi_index index.php;\n"
      "include fastcgi.conf;\n";
  fs.files["/etc/nginx/fastcgi.conf"] =
      "fastcgi_param  SCRIPT_FILENAME    $document_root$fastcgi_script_name;\n"
      "fastcgi_param  QUERY_STRING       $query_string;\n";
  fs.files["/etc/nginx/sites-available/default"] = debian_nginx_default_site;
  fs.files["/etc/nginx/sites-available/shop"] = shop_site;
  fs.files["/etc/nginx/sites-available/staging"] =
      "server {\n\tlisten 8081;\n\tserver_name staging.example;\n\troot /srv/staging;\n}\n";
  // The links in sites-enabled, as the server reads them.
  fs.files["/etc/nginx/sites-enabled/default"] = debian_nginx_default_site;
  fs.files["/etc/nginx/sites-enabled/shop"] = shop_site;
  return fs;
}

TEST(ParseNginx, DebianLayoutCountsEnabledSitesOnly) {
  MemoryFiles fs = debian_nginx();
  WebConfig config = parse_nginx({}, fs.source());
  EXPECT_TRUE(config.errors.empty()) << all_errors(config);
  ASSERT_EQ(config.sites.size(), 2u);

  const WebSite& fallback = config.sites[0];
  EXPECT_EQ(fallback.server, "nginx");
  EXPECT_EQ(fallback.domains, (Strings{"_"}));
  EXPECT_EQ(fallback.ports, (Ports{80}));
  EXPECT_EQ(fallback.document_root, "/var/www/html");
  EXPECT_FALSE(fallback.tls);
  EXPECT_EQ(fallback.config_file, "/etc/nginx/sites-enabled/default");
  EXPECT_EQ(fallback.line, 8u);

  const WebSite& shop = config.sites[1];
  EXPECT_EQ(shop.domains, (Strings{"shop.example", "www.shop.example"}));
  EXPECT_EQ(shop.ports, (Ports{443}));
  EXPECT_EQ(shop.document_root, "/srv/shop/public");  // not the root of a location
  EXPECT_TRUE(shop.tls);

  EXPECT_EQ(site_named(config, "staging.example"), nullptr);
  EXPECT_EQ(std::count(config.files_read.begin(), config.files_read.end(),
                       "/etc/nginx/sites-available/staging"),
            0);
  EXPECT_EQ(config.files_read,
            (Strings{"/etc/nginx/nginx.conf", "/etc/nginx/modules-enabled/50-mod-http-geoip.conf",
                     "/etc/nginx/modules-enabled/50-mod-stream.conf", "/etc/nginx/mime.types",
                     "/etc/nginx/sites-enabled/default", "/etc/nginx/sites-enabled/shop",
                     "/etc/nginx/snippets/snakeoil.conf", "/etc/nginx/snippets/fastcgi-php.conf",
                     "/etc/nginx/fastcgi.conf"}));
}

MemoryFiles one_file(const std::string& http_body) {
  MemoryFiles fs;
  fs.files["/etc/nginx/nginx.conf"] = "events {}\nhttp {\n" + http_body + "\n}\n";
  return fs;
}

TEST(ParseNginx, ServerNamesKeptAsGiven) {
  MemoryFiles fs = one_file(
      "server { server_name a.example *.b.example ~^(?<sub>.+)\\.c\\.example$; "
      "server_name more.example; }\n"
      "server { server_name \"\"; }\n"
      "server { server_name _; }\n"
      "server { listen 81; }\n");
  WebConfig config = parse_nginx({}, fs.source());
  EXPECT_TRUE(config.errors.empty()) << all_errors(config);
  ASSERT_EQ(config.sites.size(), 4u);
  EXPECT_EQ(config.sites[0].domains,
            (Strings{"a.example", "*.b.example", "~^(?<sub>.+)\\.c\\.example$", "more.example"}));
  EXPECT_EQ(config.sites[1].domains, (Strings{""}));
  EXPECT_EQ(config.sites[2].domains, (Strings{"_"}));
  EXPECT_TRUE(config.sites[3].domains.empty());
}

TEST(ParseNginx, ListenVariants) {
  MemoryFiles fs = one_file(
      "server { listen 80; listen 127.0.0.1:8080; listen [::]:443 ssl; listen *:8000; "
      "listen unix:/run/site.sock; }\n"
      "server { listen localhost; listen [::1]; }\n"
      "server { listen 8443 quic reuseport; listen 8443 ssl; }\n"
      "server { listen unix:/run/only.sock; }\n"
      "server { listen 70000; listen 0; listen 1.2.3.4:http; listen 9000; }\n");
  WebConfig config = parse_nginx({}, fs.source());
  ASSERT_EQ(config.sites.size(), 5u);
  EXPECT_EQ(config.sites[0].ports, (Ports{80, 443, 8000, 8080}));
  EXPECT_TRUE(config.sites[0].tls);
  EXPECT_EQ(config.sites[1].ports, (Ports{80}));
  EXPECT_FALSE(config.sites[1].tls);
  EXPECT_EQ(config.sites[2].ports, (Ports{8443}));
  EXPECT_TRUE(config.sites[2].tls);
  EXPECT_TRUE(config.sites[3].ports.empty());  // a unix socket has no port
  EXPECT_EQ(config.sites[4].ports, (Ports{9000}));
  EXPECT_EQ(config.errors.size(), 3u) << all_errors(config);
  EXPECT_TRUE(has_error(config, "invalid listen address \"70000\""));
  EXPECT_TRUE(has_error(config, "invalid listen address \"1.2.3.4:http\""));
}

TEST(ParseNginx, NoListenMeansPort80) {
  MemoryFiles fs = one_file("server { server_name quiet.example; }");
  WebConfig config = parse_nginx({}, fs.source());
  ASSERT_EQ(config.sites.size(), 1u);
  EXPECT_EQ(config.sites[0].ports, (Ports{80}));
  EXPECT_FALSE(config.sites[0].tls);
}

TEST(ParseNginx, SslOnInServerOrInherited) {
  MemoryFiles fs;
  fs.files["/etc/nginx/nginx.conf"] =
      "http {\n"
      "  server { server_name a; listen 443; ssl on; }\n"
      "  server { server_name b; listen 8443; }\n"
      "  server { server_name c; listen 8444; ssl off; }\n"
      "  ssl on;\n"
      "}\n";
  WebConfig config = parse_nginx({}, fs.source());
  ASSERT_EQ(config.sites.size(), 3u);
  EXPECT_TRUE(site_named(config, "a")->tls);
  EXPECT_TRUE(site_named(config, "b")->tls);  // http's ssl on, even written after the server
  EXPECT_FALSE(site_named(config, "c")->tls);
}

TEST(ParseNginx, RootInheritedFromHttpAndResolvedAgainstPrefix) {
  MemoryFiles fs;
  fs.files["/opt/nginx/conf/nginx.conf"] =
      "http {\n"
      "  server { server_name inherits; }\n"
      "  server { server_name own; root /srv/own; }\n"
      "  server { server_name relative; root sites/relative; }\n"
      "  server { server_name variable; root $site_root; }\n"
      "  root /srv/http-level;\n"
      "}\n";
  fs.files["/opt/other/nginx.conf"] = "http { server { server_name bare; } }\n";
  WebConfig config =
      parse_nginx({.conf_file = "/opt/nginx/conf/nginx.conf", .prefix = "/opt/nginx"}, fs.source());
  EXPECT_TRUE(config.errors.empty()) << all_errors(config);
  EXPECT_EQ(site_named(config, "inherits")->document_root, "/srv/http-level");
  EXPECT_EQ(site_named(config, "own")->document_root, "/srv/own");
  EXPECT_EQ(site_named(config, "relative")->document_root, "/opt/nginx/sites/relative");
  EXPECT_EQ(site_named(config, "variable")->document_root, "$site_root");

  config = parse_nginx({.conf_file = "/opt/other/nginx.conf"}, fs.source());
  ASSERT_EQ(config.sites.size(), 1u);
  EXPECT_EQ(config.sites[0].document_root, "/usr/share/nginx/html");  // nginx's default root
}

TEST(ParseNginx, OnlyHttpServersAreSites) {
  MemoryFiles fs;
  fs.files["/etc/nginx/nginx.conf"] =
      "stream {\n"
      "  upstream db { server 10.0.0.1:5432; }\n"
      "  server { listen 5432; proxy_pass db; }\n"
      "}\n"
      "mail {\n"
      "  server_name mail.example;\n"
      "  server { listen 143; protocol imap; }\n"
      "}\n"
      "http {\n"
      "  upstream app { server 127.0.0.1:3000; server unix:/run/app.sock backup; }\n"
      "  server { listen 80; server_name web.example;\n"
      "    location / { proxy_pass http://app; }\n"
      "    location /inner { server { listen 81; } }\n"
      "  }\n"
      "}\n"
      "server { listen 82; }\n";
  WebConfig config = parse_nginx({}, fs.source());
  ASSERT_EQ(config.sites.size(), 1u);
  EXPECT_EQ(config.sites[0].domains, (Strings{"web.example"}));
  EXPECT_EQ(config.sites[0].ports, (Ports{80}));
}

TEST(ParseNginx, IncludeCycleIsReadOnce) {
  MemoryFiles fs;
  fs.files["/etc/nginx/nginx.conf"] = "http { include a.conf; }\n";
  fs.files["/etc/nginx/a.conf"] = "server { server_name a; }\ninclude b.conf;\n";
  fs.files["/etc/nginx/b.conf"] = "server { server_name b; }\ninclude a.conf;\n";
  WebConfig config = parse_nginx({}, fs.source());
  ASSERT_EQ(config.sites.size(), 2u);
  EXPECT_NE(site_named(config, "a"), nullptr);
  EXPECT_NE(site_named(config, "b"), nullptr);
  ASSERT_EQ(config.errors.size(), 1u) << all_errors(config);
  EXPECT_TRUE(Contains(config.errors[0], "/etc/nginx/b.conf:2: include cycle: /etc/nginx/a.conf"));
}

TEST(ParseNginx, SameSnippetInTwoServersIsNoCycle) {
  MemoryFiles fs;
  fs.files["/etc/nginx/nginx.conf"] =
      "http {\n"
      "  server { server_name one; include tls.conf; }\n"
      "  server { server_name two; include tls.conf; }\n"
      "}\n";
  fs.files["/etc/nginx/tls.conf"] = "listen 443 ssl;\n";
  WebConfig config = parse_nginx({}, fs.source());
  EXPECT_TRUE(config.errors.empty()) << all_errors(config);
  ASSERT_EQ(config.sites.size(), 2u);
  EXPECT_TRUE(config.sites[0].tls);
  EXPECT_TRUE(config.sites[1].tls);
  EXPECT_EQ(config.files_read, (Strings{"/etc/nginx/nginx.conf", "/etc/nginx/tls.conf"}));
}

TEST(ParseNginx, IncludeDepthBombIsBounded) {
  MemoryFiles fs;
  fs.files["/etc/nginx/nginx.conf"] = "http { include deep/0.conf; }\n";
  for (int i = 0; i < 200; ++i) {
    fs.files["/etc/nginx/deep/" + std::to_string(i) + ".conf"] =
        "server { server_name s" + std::to_string(i) + "; }\ninclude deep/" +
        std::to_string(i + 1) + ".conf;\n";
  }
  WebConfig config = parse_nginx({}, fs.source());
  EXPECT_EQ(config.files_read.size(), 17u);  // the main file and 16 levels of includes
  EXPECT_EQ(config.sites.size(), 16u);
  ASSERT_EQ(config.errors.size(), 1u) << all_errors(config);
  EXPECT_TRUE(Contains(config.errors[0], "includes nested deeper than 16"));
}

TEST(ParseNginx, GlobOfTenThousandFilesIsBounded) {
  MemoryFiles fs;
  fs.files["/etc/nginx/nginx.conf"] = "http { include /etc/nginx/conf.d/*.conf; }\n";
  for (int i = 0; i < 10'000; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "/etc/nginx/conf.d/%05d.conf", i);
    fs.files[name] = "server { listen 80; server_name s" + std::to_string(i) + "; }\n";
  }
  WebConfig config = parse_nginx({}, fs.source());
  EXPECT_EQ(config.files_read.size(), 1000u);
  EXPECT_EQ(config.sites.size(), 999u);
  EXPECT_LE(fs.reads.size(), 1000u);
  ASSERT_FALSE(fs.glob_bounds.empty());
  EXPECT_LE(fs.glob_bounds[0], 1000u);
  ASSERT_EQ(config.errors.size(), 1u) << all_errors(config);
  EXPECT_TRUE(Contains(config.errors[0], "more than 1000 files loaded"));
}

TEST(ParseNginx, QuotesEscapesAndComments) {
  MemoryFiles fs;
  fs.files["/etc/nginx/nginx.conf"] =
      "# a comment with { and ; and }\n"
      "http { # comment after a brace\n"
      "  server {\n"
      "    server_name \"with space.example\" 'it\\'s.example' hash#inside.example\n"
      "                \"semi;colon\" \"brace{}\" esc\\;aped \"tab\\there\"; # trailing\n"
      "    listen \"8080\";#no space before the comment\n"
      "    root '/srv/quoted root';\n"
      "    set $x \"${host}_x\";\n"
      "    if ($host ~ \"^(www)\") { return 301; }\n"
      "    location ~ \"^/a{2}$\" { }\n"
      "  }\n"
      "}\n";
  WebConfig config = parse_nginx({}, fs.source());
  EXPECT_TRUE(config.errors.empty()) << all_errors(config);
  ASSERT_EQ(config.sites.size(), 1u);
  EXPECT_EQ(config.sites[0].domains,
            (Strings{"with space.example", "it's.example", "hash#inside.example", "semi;colon",
                     "brace{}", "esc\\;aped", "tab\there"}));
  EXPECT_EQ(config.sites[0].ports, (Ports{8080}));
  EXPECT_EQ(config.sites[0].document_root, "/srv/quoted root");
}

TEST(ParseNginx, SyntaxErrorsStopTheFileAndKeepWhatWasRead) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"http { server { server_name kept; } server { listen 80 } }", ":1: unexpected \"}\""},
      {"http { server { server_name kept; }\n server_name \"open; }\n",
       ":3: unexpected end of file, expecting \";\" or \"}\""},
      {"http { server { server_name kept; } listen \"80\"x; }", ":1: unexpected \"x\""},
      {"http { server { server_name kept; } ; }", ":1: unexpected \";\""},
      {"http { server { server_name kept; } } }\nhttp { server { server_name lost; } }",
       ":1: unexpected \"}\""},
      {"http { server { server_name kept; } server { listen 80;",
       ":1: unexpected end of file, expecting \"}\""},
      {"http { server { server_name kept; } server { listen 80",
       ":1: unexpected end of file, expecting \";\" or \"}\""},
  };
  for (const auto& c : cases) {
    MemoryFiles fs;
    fs.files["/etc/nginx/nginx.conf"] = c.text;
    WebConfig config = parse_nginx({}, fs.source());
    ASSERT_GE(config.sites.size(), 1u) << c.text;
    EXPECT_EQ(config.sites[0].domains, (Strings{"kept"})) << c.text;
    EXPECT_EQ(site_named(config, "lost"), nullptr) << c.text;
    ASSERT_EQ(config.errors.size(), 1u) << c.text << "\n" << all_errors(config);
    EXPECT_TRUE(Contains(config.errors[0], std::string("/etc/nginx/nginx.conf") + c.error))
        << c.text;
  }
}

TEST(ParseNginx, UnterminatedBlockKeepsTheServer) {
  MemoryFiles fs;
  fs.files["/etc/nginx/nginx.conf"] =
      "http {\n  server {\n    listen 8080;\n    server_name open.example;\n";
  WebConfig config = parse_nginx({}, fs.source());
  ASSERT_EQ(config.sites.size(), 1u);
  EXPECT_EQ(config.sites[0].ports, (Ports{8080}));
  ASSERT_EQ(config.errors.size(), 1u);
  EXPECT_TRUE(Contains(config.errors[0], "unexpected end of file, expecting \"}\""));
}

TEST(ParseNginx, IncludedFileMustCloseItsOwnBlocks) {
  MemoryFiles fs;
  fs.files["/etc/nginx/nginx.conf"] =
      "http {\n include open.conf;\n server { server_name after; }\n}\n";
  fs.files["/etc/nginx/open.conf"] = "server { server_name inside;\n";
  WebConfig config = parse_nginx({}, fs.source());
  ASSERT_EQ(config.sites.size(), 2u);
  EXPECT_NE(site_named(config, "inside"), nullptr);
  EXPECT_NE(site_named(config, "after"), nullptr);
  ASSERT_EQ(config.errors.size(), 1u) << all_errors(config);
  EXPECT_TRUE(Contains(config.errors[0], "/etc/nginx/open.conf:2: unexpected end of file"));
}

TEST(ParseNginx, MissingIncludesAndRelativePaths) {
  MemoryFiles fs;
  fs.files["/usr/local/nginx/conf/nginx.conf"] =
      "http {\n"
      "  include vhosts/*.conf;\n"           // relative to the main file's directory
      "  include nothing-matches/*.conf;\n"  // a pattern without matches is fine
      "  include missing.conf;\n"            // a missing file is not
      "}\n";
  fs.files["/usr/local/nginx/conf/vhosts/a.conf"] = "include ../shared/server.conf;\n";
  fs.files["/usr/local/nginx/conf/../shared/server.conf"] = "server { server_name rel; }\n";
  WebConfig config = parse_nginx({.conf_file = "/usr/local/nginx/conf/nginx.conf"}, fs.source());
  ASSERT_EQ(config.sites.size(), 1u);
  EXPECT_EQ(config.sites[0].config_file, "/usr/local/nginx/conf/../shared/server.conf");
  ASSERT_EQ(config.errors.size(), 1u) << all_errors(config);
  EXPECT_TRUE(Contains(config.errors[0],
                       "cannot read /usr/local/nginx/conf/missing.conf (included from "
                       "/usr/local/nginx/conf/nginx.conf:4)"));
}

TEST(ParseNginx, UnreadableMainFile) {
  MemoryFiles fs;
  WebConfig config = parse_nginx({}, fs.source());
  EXPECT_TRUE(config.sites.empty());
  EXPECT_TRUE(config.files_read.empty());
  ASSERT_EQ(config.errors.size(), 1u);
  EXPECT_EQ(config.errors[0], "cannot read /etc/nginx/nginx.conf");
}

TEST(ParseNginx, NestingBombIsBounded) {
  MemoryFiles fs;
  std::string text = "http { server { server_name s; } ";
  for (int i = 0; i < 100'000; ++i) text += "a {";
  for (int i = 0; i < 100'000; ++i) text += "}";
  text += " server { server_name t; } }";
  fs.files["/etc/nginx/nginx.conf"] = text;
  WebConfig config = parse_nginx({}, fs.source());
  EXPECT_EQ(config.sites.size(), 2u);
  ASSERT_EQ(config.errors.size(), 1u) << all_errors(config);
  EXPECT_TRUE(Contains(config.errors[0], "blocks nested deeper than 64"));
}

TEST(ParseNginx, OversizedFileIsCut) {
  MemoryFiles fs;
  std::string text = "http { server { server_name first; } }\n";
  text += std::string(2000, '#') + "\nhttp { server { server_name late; } }\n";
  fs.files["/etc/nginx/nginx.conf"] = text;
  ConfigLimits limits;
  limits.max_file_bytes = 1000;
  WebConfig config = parse_nginx({}, fs.source(), limits);
  ASSERT_EQ(config.sites.size(), 1u);
  EXPECT_EQ(config.sites[0].domains, (Strings{"first"}));
  EXPECT_TRUE(has_error(config, "larger than 1000 bytes")) << all_errors(config);
}

TEST(ParseNginx, ErrorsAreBounded) {
  MemoryFiles fs;
  std::string text = "http {\n";
  for (int i = 0; i < 500; ++i) text += "include missing" + std::to_string(i) + ".conf;\n";
  fs.files["/etc/nginx/nginx.conf"] = text + "}\n";
  WebConfig config = parse_nginx({}, fs.source());
  ASSERT_EQ(config.errors.size(), 101u);
  EXPECT_EQ(config.errors.back(), "400 more errors not recorded");
}

// ---------------------------------------------------------------------------------------------
// Apache httpd

// Debian bookworm's /etc/apache2/apache2.conf, without most of its comments.
constexpr const char* debian_apache2_conf =
    R"CONF(# This is the main Apache server configuration file.  It contains the
# configuration directives that give the server its instructions.
# See http://httpd.apache.org/docs/2.4/ for detailed information about
# the directives and /usr/share/doc/apache2/README.Debian about Debian specific
# hints.
#
# Global configuration
#

#
# ServerRoot: The top of the directory tree under which the server's
# configuration, error, and log files are kept.
#
# NOTE!  If you intend to place this on an NFS (or otherwise network)
# mounted filesystem then please read the Mutex documentation (available
# at <URL:http://httpd.apache.org/docs/2.4/mod/core.html#mutex>);
# you will save yourself a lot of trouble.
#
# Do NOT add a slash at the end of the directory path.
#
#ServerRoot "/etc/apache2"

#
# The accept serialization lock file MUST BE STORED ON A LOCAL DISK.
#
#Mutex file:${APACHE_LOCK_DIR} default

#
# The directory where shm and other runtime files will be stored.
#

DefaultRuntimeDir ${APACHE_RUN_DIR}

#
# PidFile: The file in which the server should record its process
# identification number when it starts.
# This needs to be set in /etc/apache2/envvars
#
PidFile ${APACHE_PID_FILE}

Timeout 300
KeepAlive On
MaxKeepAliveRequests 100
KeepAliveTimeout 5

# These need to be set in /etc/apache2/envvars
User ${APACHE_RUN_USER}
Group ${APACHE_RUN_GROUP}

HostnameLookups Off

ErrorLog ${APACHE_LOG_DIR}/error.log

LogLevel warn

# Include module configuration:
IncludeOptional mods-enabled/*.load
IncludeOptional mods-enabled/*.conf

# Include list of ports to listen on
Include ports.conf

<Directory />
	Options FollowSymLinks
	AllowOverride None
	Require all denied
</Directory>

<Directory /usr/share>
	AllowOverride None
	Require all granted
</Directory>

<Directory /var/www/>
	Options Indexes FollowSymLinks
	AllowOverride None
	Require all granted
</Directory>

#<Directory /srv/>
#	Options Indexes FollowSymLinks
#	AllowOverride None
#	Require all granted
#</Directory>

AccessFileName .htaccess

<FilesMatch "^\.ht">
	Require all denied
</FilesMatch>

LogFormat "%v:%p %h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" vhost_combined
LogFormat "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" combined
LogFormat "%h %l %u %t \"%r\" %>s %O" common
LogFormat "%{Referer}i -> %U" referer
LogFormat "%{User-agent}i" agent

# Include of directories ignores editors' and dpkg's backup files,
# see README.Debian for details.

# Include generic snippets of statements
IncludeOptional conf-enabled/*.conf

# Include the virtual host configurations:
IncludeOptional sites-enabled/*.conf

# vim: syntax=apache ts=4 sw=4 sts=4 sr noet
)CONF";

constexpr const char* debian_ports_conf =
    R"CONF(# If you just change the port or add more ports here, you will likely also
# have to change the VirtualHost statement in
# /etc/apache2/sites-enabled/000-default.conf

Listen 80

<IfModule ssl_module>
	Listen 443
</IfModule>

<IfModule mod_gnutls.c>
	Listen 443
</IfModule>
)CONF";

constexpr const char* debian_000_default = R"CONF(<VirtualHost *:80>
	# The ServerName directive sets the request scheme, hostname and port that
	# the server uses to identify itself. This is used when creating
	# redirection URLs. In the context of virtual hosts, the ServerName
	# specifies what hostname must appear in the request's Host: header to
	# match this virtual host. For the default virtual host (this file) this
	# value is not decisive as it is used as a last resort host regardless.
	# However, you must set it for any further virtual host explicitly.
	#ServerName www.example.com

	ServerAdmin webmaster@localhost
	DocumentRoot /var/www/html

	# Available loglevels: trace8, ..., trace1, debug, info, notice, warn,
	# error, crit, alert, emerg.
	#LogLevel info ssl:warn

	ErrorLog ${APACHE_LOG_DIR}/error.log
	CustomLog ${APACHE_LOG_DIR}/access.log combined

	#Include conf-available/serve-cgi-bin.conf
</VirtualHost>
)CONF";

constexpr const char* secure_site = R"CONF(<VirtualHost *:443>
	ServerAdmin webmaster@localhost
	ServerName secure.example
	ServerAlias www.secure.example shop.secure.example
	ServerAlias static.secure.example

	DocumentRoot /var/www/secure

	ErrorLog ${APACHE_LOG_DIR}/error.log
	CustomLog ${APACHE_LOG_DIR}/access.log combined

	SSLEngine on
	SSLCertificateFile      /etc/ssl/certs/ssl-cert-snakeoil.pem
	SSLCertificateKeyFile   /etc/ssl/private/ssl-cert-snakeoil.key

	<FilesMatch "\.(?:cgi|shtml|phtml|php)$">
		SSLOptions +StdEnvVars
	</FilesMatch>
	<Directory /usr/lib/cgi-bin>
		SSLOptions +StdEnvVars
		DocumentRoot /not/here
	</Directory>
</VirtualHost>
)CONF";

MemoryFiles debian_apache() {
  MemoryFiles fs;
  fs.files["/etc/apache2/apache2.conf"] = debian_apache2_conf;
  fs.files["/etc/apache2/ports.conf"] = debian_ports_conf;
  fs.files["/etc/apache2/mods-enabled/mpm_event.load"] =
      "# Conflicts: mpm_worker mpm_prefork\n"
      "LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\n";
  fs.files["/etc/apache2/mods-enabled/mpm_event.conf"] =
      "<IfModule mpm_event_module>\n\tStartServers\t\t\t 2\n\tMaxRequestWorkers\t  150\n"
      "</IfModule>\n";
  fs.files["/etc/apache2/mods-enabled/socache_shmcb.load"] =
      "LoadModule socache_shmcb_module /usr/lib/apache2/modules/mod_socache_shmcb.so\n";
  fs.files["/etc/apache2/mods-enabled/ssl.load"] =
      "# Depends: setenvif mime socache_shmcb\n"
      "LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\n";
  fs.files["/etc/apache2/mods-enabled/ssl.conf"] =
      "<IfModule mod_ssl.c>\n"
      "\tSSLRandomSeed startup builtin\n"
      "\tSSLRandomSeed startup file:/dev/urandom 512\n"
      "\tAddType application/x-x509-ca-cert .crt\n"
      "\tSSLPassPhraseDialog  exec:/usr/share/apache2/ask-for-passphrase\n"
      "\tSSLSessionCache\t\tshmcb:${APACHE_RUN_DIR}/ssl_scache(512000)\n"
      "\tSSLProtocol all -SSLv3\n"
      "</IfModule>\n";
  fs.files["/etc/apache2/conf-enabled/charset.conf"] = "#AddDefaultCharset UTF-8\n";
  fs.files["/etc/apache2/conf-enabled/security.conf"] =
      "ServerTokens OS\nServerSignature On\nTraceEnable Off\n";
  fs.files["/etc/apache2/sites-available/000-default.conf"] = debian_000_default;
  fs.files["/etc/apache2/sites-available/default-ssl.conf"] = secure_site;
  fs.files["/etc/apache2/sites-available/other.conf"] =
      "<VirtualHost *:8080>\n\tServerName other.example\n\tDocumentRoot /srv/other\n"
      "</VirtualHost>\n";
  fs.files["/etc/apache2/sites-enabled/000-default.conf"] = debian_000_default;
  fs.files["/etc/apache2/sites-enabled/default-ssl.conf"] = secure_site;
  return fs;
}

TEST(ParseApache, DebianLayoutCountsEnabledVirtualHosts) {
  MemoryFiles fs = debian_apache();
  WebConfig config = parse_apache({}, fs.source());
  EXPECT_TRUE(config.errors.empty()) << all_errors(config);
  ASSERT_EQ(config.sites.size(), 2u);

  const WebSite& fallback = config.sites[0];
  EXPECT_EQ(fallback.server, "apache");
  EXPECT_TRUE(fallback.domains.empty());
  EXPECT_EQ(fallback.ports, (Ports{80}));
  EXPECT_EQ(fallback.document_root, "/var/www/html");
  EXPECT_FALSE(fallback.tls);
  EXPECT_EQ(fallback.config_file, "/etc/apache2/sites-enabled/000-default.conf");
  EXPECT_EQ(fallback.line, 1u);

  const WebSite& secure = config.sites[1];
  EXPECT_EQ(secure.domains, (Strings{"secure.example", "www.secure.example", "shop.secure.example",
                                     "static.secure.example"}));
  EXPECT_EQ(secure.ports, (Ports{443}));
  EXPECT_EQ(secure.document_root, "/var/www/secure");
  EXPECT_TRUE(secure.tls);

  EXPECT_EQ(site_named(config, "other.example"), nullptr);
  EXPECT_EQ(
      config.files_read,
      (Strings{"/etc/apache2/apache2.conf", "/etc/apache2/mods-enabled/mpm_event.load",
               "/etc/apache2/mods-enabled/socache_shmcb.load", "/etc/apache2/mods-enabled/ssl.load",
               "/etc/apache2/mods-enabled/mpm_event.conf", "/etc/apache2/mods-enabled/ssl.conf",
               "/etc/apache2/ports.conf", "/etc/apache2/conf-enabled/charset.conf",
               "/etc/apache2/conf-enabled/security.conf",
               "/etc/apache2/sites-enabled/000-default.conf",
               "/etc/apache2/sites-enabled/default-ssl.conf"}));
}

MemoryFiles apache_main(const std::string& text) {
  MemoryFiles fs;
  fs.files["/etc/apache2/apache2.conf"] = text;
  return fs;
}

TEST(ParseApache, ServerNameAndAliases) {
  MemoryFiles fs = apache_main(
      "Listen 80\n"
      "<VirtualHost *:80>\n"
      "  ServerName https://Www.Example.org:443\n"
      "  ServerAlias example.org *.example.org\n"
      "  ServerAlias \"quoted.example.org\"\n"
      "</VirtualHost>\n"
      "<VirtualHost *:80>\n  ServerName [2001:db8::1]:8080\n</VirtualHost>\n"
      "<VirtualHost *:80>\n  ServerAlias alias-only.example\n</VirtualHost>\n");
  WebConfig config = parse_apache({}, fs.source());
  EXPECT_TRUE(config.errors.empty()) << all_errors(config);
  ASSERT_EQ(config.sites.size(), 3u);
  EXPECT_EQ(config.sites[0].domains,
            (Strings{"Www.Example.org", "example.org", "*.example.org", "quoted.example.org"}));
  EXPECT_EQ(config.sites[1].domains, (Strings{"[2001:db8::1]"}));
  EXPECT_EQ(config.sites[2].domains, (Strings{"alias-only.example"}));
}

TEST(ParseApache, IncludeOptionalOfNothingIsSilent) {
  MemoryFiles fs = apache_main(
      "IncludeOptional conf.d/*.conf\n"
      "IncludeOptional /etc/apache2/missing.conf\n"
      "IncludeOptional sites/*/vhost.conf\n"
      "<VirtualHost *:80>\n  ServerName only.example\n</VirtualHost>\n");
  WebConfig config = parse_apache({}, fs.source());
  EXPECT_TRUE(config.errors.empty()) << all_errors(config);
  EXPECT_EQ(config.sites.size(), 1u);
}

TEST(ParseApache, IncludeOfNothingIsAnError) {
  MemoryFiles fs = apache_main(
      "Include missing.conf\n"
      "Include conf.d/*.conf\n"
      "<VirtualHost *:80>\n  ServerName still.example\n</VirtualHost>\n");
  WebConfig config = parse_apache({}, fs.source());
  ASSERT_EQ(config.sites.size(), 1u);
  ASSERT_EQ(config.errors.size(), 2u) << all_errors(config);
  EXPECT_TRUE(Contains(config.errors[0],
                       "cannot read /etc/apache2/missing.conf (included from "
                       "/etc/apache2/apache2.conf:1)"));
  EXPECT_TRUE(Contains(config.errors[1],
                       "/etc/apache2/apache2.conf:2: no file matches /etc/apache2/conf.d/*.conf"));
}

TEST(ParseApache, ContinuationLines) {
  MemoryFiles fs = apache_main(
      "Listen 80\r\nListen 8080\r\n"
      "<VirtualHost *:80 \\\n"
      "             *:8080>\n"
      "  ServerName cont.example\n"
      "  ServerAlias a.example \\\n"
      "    b.example \\\n"
      "    c.example\n"
      "  # a comment that continues \\\n"
      "  ServerAlias swallowed.example\n"
      "  DocumentRoot /srv/\\\n"
      "cont\n"
      "  ServerAlias d.example \\ \n"
      "</VirtualHost>\n");
  WebConfig config = parse_apache({}, fs.source());
  EXPECT_TRUE(config.errors.empty()) << all_errors(config);
  ASSERT_EQ(config.sites.size(), 1u);
  EXPECT_EQ(config.sites[0].domains,
            (Strings{"cont.example", "a.example", "b.example", "c.example", "d.example", "\\"}));
  EXPECT_EQ(config.sites[0].ports, (Ports{80, 8080}));
  EXPECT_EQ(config.sites[0].document_root, "/srv/cont");
}

TEST(ParseApache, DefinesAndVariables) {
  ApacheStart start;
  start.defines = {"PRODUCTION"};
  start.environment = {{"APACHE_LOG_DIR", "/var/log/apache2"}, {"SITE", "from-env.example"}};
  MemoryFiles fs = apache_main(
      "Define docroot /srv/www\n"
      "Define name defined.example\n"
      "Define SITE defined-wins.example\n"
      "Listen 80\n"
      "<VirtualHost *:80>\n"
      "  ServerName ${name}\n"
      "  ServerAlias ${SITE} ${UNKNOWN} ${APACHE_LOG_DIR} ${unclosed\n"
      "  DocumentRoot ${docroot}/a\n"
      "</VirtualHost>\n"
      "UnDefine name\n"
      "<IfDefine PRODUCTION>\n"
      "  <VirtualHost *:80>\n    ServerName ${name}\n  </VirtualHost>\n"
      "</IfDefine>\n"
      "<IfDefine !PRODUCTION>\n"
      "  <VirtualHost *:80>\n    ServerName not-production.example\n  </VirtualHost>\n"
      "</IfDefine>\n"
      "<IfDefine docroot>\n"
      "  <VirtualHost *:80>\n    ServerName docroot-defined.example\n  </VirtualHost>\n"
      "</IfDefine>\n"
      "<IfDefine SSL>\n"
      "  <VirtualHost *:443>\n    ServerName needs-dssl.example\n  </VirtualHost>\n"
      "</IfDefine>\n");
  WebConfig config = parse_apache(start, fs.source());
  EXPECT_TRUE(config.errors.empty()) << all_errors(config);
  ASSERT_EQ(config.sites.size(), 3u);
  EXPECT_EQ(config.sites[0].domains, (Strings{"defined.example", "defined-wins.example",
                                              "${UNKNOWN}", "/var/log/apache2", "${unclosed"}));
  EXPECT_EQ(config.sites[0].document_root, "/srv/www/a");
  EXPECT_EQ(config.sites[1].domains, (Strings{"${name}"}));  // no longer defined
  EXPECT_EQ(config.sites[2].domains, (Strings{"docroot-defined.example"}));
}

TEST(ParseApache, NestedIfModule) {
  MemoryFiles fs = apache_main(
      "LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\n"
      "LoadModule rewrite_module modules/mod_rewrite.so\n"
      "Listen 443\n"
      "<IfModule mod_ssl.c>\n"
      "  <IfModule headers_module>\n"  // not loaded by a LoadModule we saw; it may be built in
      "    <VirtualHost *:443>\n"
      "      ServerName nested.example\n"
      "      SSLEngine on\n"
      "    </VirtualHost>\n"
      "  </IfModule>\n"
      "</IfModule>\n"
      "<IfModule !mod_ssl.c>\n"
      "  <VirtualHost *:80>\n    ServerName without-ssl.example\n  </VirtualHost>\n"
      "</IfModule>\n"
      "<IfModule !ssl_module>\n"
      "  <VirtualHost *:80>\n    ServerName without-ssl2.example\n  </VirtualHost>\n"
      "</IfModule>\n"
      "<IfModule !mod_rewrite.c>\n"
      "  <VirtualHost *:80>\n    ServerName without-rewrite.example\n  </VirtualHost>\n"
      "</IfModule>\n"
      "<IfModule !mod_security2.c>\n"
      "  <VirtualHost *:80>\n    ServerName without-security.example\n  </VirtualHost>\n"
      "</IfModule>\n");
  WebConfig config = parse_apache({}, fs.source());
  EXPECT_TRUE(config.errors.empty()) << all_errors(config);
  ASSERT_EQ(config.sites.size(), 2u);
  EXPECT_EQ(config.sites[0].domains, (Strings{"nested.example"}));
  EXPECT_TRUE(config.sites[0].tls);
  EXPECT_EQ(config.sites[1].domains, (Strings{"without-security.example"}));
}

TEST(ParseApache, NamesInAnyCase) {
  MemoryFiles fs = apache_main(
      "listen 8080\n"
      "<virtualhost *:8080>\n"
      "  servername lower.example\n"
      "  DOCUMENTROOT /srv/upper\n"
      "  sslengine ON\n"
      "</VIRTUALHOST>\n");
  WebConfig config = parse_apache({}, fs.source());
  EXPECT_TRUE(config.errors.empty()) << all_errors(config);
  ASSERT_EQ(config.sites.size(), 1u);
  EXPECT_EQ(config.sites[0].domains, (Strings{"lower.example"}));
  EXPECT_EQ(config.sites[0].document_root, "/srv/upper");
  EXPECT_TRUE(config.sites[0].tls);
}

TEST(ParseApache, VirtualHostAddresses) {
  MemoryFiles fs = apache_main(
      "Listen 80\nListen 0.0.0.0:8000\nListen [::]:8443 https\n"
      "<VirtualHost *:443>\n ServerName a\n</VirtualHost>\n"
      "<VirtualHost [::1]:8080 127.0.0.1:8081>\n ServerName b\n</VirtualHost>\n"
      "<VirtualHost _default_:443>\n ServerName c\n</VirtualHost>\n"
      "<VirtualHost *>\n ServerName d\n</VirtualHost>\n"
      "<VirtualHost 192.0.2.1 *:*>\n ServerName e\n</VirtualHost>\n"
      "<VirtualHost *:http>\n ServerName f\n</VirtualHost>\n");
  WebConfig config = parse_apache({}, fs.source());
  ASSERT_EQ(config.sites.size(), 6u);
  EXPECT_EQ(site_named(config, "a")->ports, (Ports{443}));
  EXPECT_EQ(site_named(config, "b")->ports, (Ports{8080, 8081}));
  EXPECT_EQ(site_named(config, "c")->ports, (Ports{443}));
  EXPECT_EQ(site_named(config, "d")->ports, (Ports{80, 8000, 8443}));  // every Listen
  EXPECT_EQ(site_named(config, "e")->ports, (Ports{80, 8000, 8443}));
  EXPECT_TRUE(site_named(config, "f")->ports.empty());
  ASSERT_EQ(config.errors.size(), 1u) << all_errors(config);
  EXPECT_TRUE(Contains(config.errors[0], "invalid <VirtualHost> address \"*:http\""));
}

TEST(ParseApache, RelativePathsFollowServerRoot) {
  MemoryFiles fs;
  fs.files["/etc/httpd/conf/httpd.conf"] =
      "ServerRoot \"/etc/httpd\"\n"
      "Include conf.d/*.conf\n"
      "DocumentRoot \"htdocs\"\n";
  fs.files["/etc/httpd/conf.d/site.conf"] =
      "<VirtualHost *:80>\n  ServerName rel.example\n  DocumentRoot \"sites/rel root\"\n"
      "</VirtualHost>\n"
      "<VirtualHost *:80>\n  ServerName main-root.example\n</VirtualHost>\n";
  WebConfig config =
      parse_apache({.conf_file = "/etc/httpd/conf/httpd.conf", .server_root = "/usr/local/apache2"},
                   fs.source());
  EXPECT_TRUE(config.errors.empty()) << all_errors(config);
  ASSERT_EQ(config.sites.size(), 2u);
  EXPECT_EQ(config.sites[0].document_root, "/etc/httpd/sites/rel root");
  EXPECT_EQ(config.sites[1].document_root, "/etc/httpd/htdocs");  // the main server's
}

TEST(ParseApache, MainServerIsNotASiteButLendsItsSettings) {
  MemoryFiles fs = apache_main(
      "ServerName main.example\n"
      "DocumentRoot /srv/main\n"
      "SSLEngine on\n"
      "Listen 443\n"
      "<VirtualHost *:443>\n  ServerAlias alias.example\n</VirtualHost>\n"
      "<VirtualHost *:443>\n  ServerName plain.example\n  SSLEngine off\n"
      "  DocumentRoot /srv/plain\n</VirtualHost>\n");
  WebConfig config = parse_apache({}, fs.source());
  EXPECT_TRUE(config.errors.empty()) << all_errors(config);
  ASSERT_EQ(config.sites.size(), 2u);
  EXPECT_EQ(config.sites[0].domains, (Strings{"main.example", "alias.example"}));
  EXPECT_EQ(config.sites[0].document_root, "/srv/main");
  EXPECT_TRUE(config.sites[0].tls);
  EXPECT_FALSE(config.sites[1].tls);
  EXPECT_EQ(config.sites[1].document_root, "/srv/plain");

  fs = apache_main("ServerName lonely.example\nListen 80\nDocumentRoot /srv\n");
  config = parse_apache({}, fs.source());
  EXPECT_TRUE(config.sites.empty());
}

TEST(ParseApache, UnclosedAndMismatchedSections) {
  MemoryFiles fs;
  fs.files["/etc/apache2/apache2.conf"] =
      "Listen 80\n"
      "Include a.conf\n"
      "<VirtualHost *:80>\n  ServerName after.example\n</VirtualHost>\n"
      "</Directory>\n"
      "<VirtualHost *:80\n  ServerName no-bracket.example\n</VirtualHost>\n";
  fs.files["/etc/apache2/a.conf"] =
      "<VirtualHost *:80>\n  ServerName mismatched.example\n  <Directory /srv>\n"
      "</VirtualHost>\n"
      "<VirtualHost *:80>\n  ServerName unclosed.example\n";
  WebConfig config = parse_apache({}, fs.source());
  ASSERT_EQ(config.sites.size(), 4u);
  EXPECT_NE(site_named(config, "mismatched.example"), nullptr);
  EXPECT_NE(site_named(config, "unclosed.example"), nullptr);
  EXPECT_NE(site_named(config, "after.example"), nullptr);
  EXPECT_NE(site_named(config, "no-bracket.example"), nullptr);
  ASSERT_EQ(config.errors.size(), 4u) << all_errors(config);
  EXPECT_TRUE(Contains(config.errors[0], "a.conf:4: expected </Directory> but saw </VirtualHost>"));
  EXPECT_TRUE(Contains(config.errors[1], "a.conf:5: <VirtualHost> not closed"));
  EXPECT_TRUE(Contains(config.errors[2], "apache2.conf:6: </Directory> without matching"));
  EXPECT_TRUE(Contains(config.errors[3], "apache2.conf:7: <VirtualHost> directive missing"));
}

TEST(ParseApache, IncludeCycleAndIncludeInsideVirtualHost) {
  MemoryFiles fs;
  fs.files["/etc/apache2/apache2.conf"] = "Listen 443\nInclude a.conf\n";
  fs.files["/etc/apache2/a.conf"] =
      "<VirtualHost *:443>\n  ServerName a.example\n  Include snippets/tls.conf\n"
      "</VirtualHost>\nInclude b.conf\n";
  fs.files["/etc/apache2/b.conf"] =
      "<VirtualHost *:443>\n  ServerName b.example\n</VirtualHost>\nInclude a.conf\n";
  fs.files["/etc/apache2/snippets/tls.conf"] = "SSLEngine on\nServerAlias tls-snippet.example\n";
  WebConfig config = parse_apache({}, fs.source());
  ASSERT_EQ(config.sites.size(), 2u);
  EXPECT_EQ(config.sites[0].domains, (Strings{"a.example", "tls-snippet.example"}));
  EXPECT_TRUE(config.sites[0].tls);
  EXPECT_FALSE(config.sites[1].tls);
  ASSERT_EQ(config.errors.size(), 1u) << all_errors(config);
  EXPECT_TRUE(Contains(config.errors[0], "b.conf:4: include cycle: /etc/apache2/a.conf"));
}

TEST(ParseApache, IncludeOfADirectoryReadsItWhole) {
  MemoryFiles fs;
  fs.files["/etc/apache2/apache2.conf"] = "Listen 80\nInclude vhosts\n";
  fs.files["/etc/apache2/vhosts/a.conf"] = "<VirtualHost *:80>\nServerName a\n</VirtualHost>\n";
  fs.files["/etc/apache2/vhosts/sub/b"] = "<VirtualHost *:80>\nServerName b\n</VirtualHost>\n";
  WebConfig config = parse_apache({}, fs.source());
  EXPECT_TRUE(config.errors.empty()) << all_errors(config);
  ASSERT_EQ(config.sites.size(), 2u);
  EXPECT_EQ(config.sites[1].domains, (Strings{"b"}));
}

// Found by tests/fuzz/apache_fuzzer (regressions/apache/): symlinks to "." in an included folder,
// followed inside the root as httpd follows them, made 6^16 listings before the walk stopped at
// max_depth. Real files, so the symlinks are resolved by the collector's own glob.
TEST(ParseApache, SymlinkLoopsInAnIncludedDirectoryAreBounded) {
  test::TempDir root;
  // No file in the folder: file loads, whose bound would also narrow the walk, never happen.
  root.write("etc/apache2/apache2.conf",
             "Listen 80\nInclude conf-enabled\n<VirtualHost *:80>\nServerName a\n</VirtualHost>\n");
  std::filesystem::create_directories(root.path() / "etc/apache2/conf-enabled");
  for (int i = 0; i < 6; ++i)
    std::filesystem::create_directory_symlink(
        ".", root.path() / "etc/apache2/conf-enabled" / ("loop" + std::to_string(i)));
  FileSource real = file_source_in_root(root.path());
  std::size_t globs = 0;
  constexpr std::size_t give_up = 50'000;  // without a bound the walk would not end: stop it here
  FileSource counted{real.read, [&](const std::string& pattern, std::size_t max_matches) {
                       if (++globs > give_up) return std::vector<std::string>{};
                       return real.glob(pattern, max_matches);
                     }};
  ConfigLimits limits;
  WebConfig config = parse_apache({}, counted, limits);
  // Each listing globs its entries once: about 6 * max_files in all.
  EXPECT_LE(globs, 8 * limits.max_files);
  EXPECT_FALSE(config.errors.empty());
  ASSERT_FALSE(config.sites.empty());
  EXPECT_EQ(config.sites[0].domains, (Strings{"a"}));
}

TEST(ParseApache, MacroBodiesAreNotSites) {
  MemoryFiles fs = apache_main(
      "Listen 80\n"
      "<Macro VHost $name>\n  <VirtualHost *:80>\n    ServerName $name\n  </VirtualHost>\n"
      "</Macro>\n"
      "Use VHost used.example\n"
      "<Directory /srv>\n  <VirtualHost *:80>\n    ServerName misplaced\n  </VirtualHost>\n"
      "</Directory>\n");
  WebConfig config = parse_apache({}, fs.source());
  EXPECT_TRUE(config.sites.empty());
  ASSERT_EQ(config.errors.size(), 1u) << all_errors(config);
  EXPECT_TRUE(Contains(config.errors[0], "<VirtualHost> inside another section"));
}

TEST(ParseApache, DefineBombIsBounded) {
  std::string text = "Define a " + std::string(1000, 'x') + "\n";
  text += "ServerName";
  for (int i = 0; i < 5000; ++i) text += " ${a}";
  text += "\n<VirtualHost *:80>\n ServerName kept\n</VirtualHost>\n";
  MemoryFiles fs = apache_main(text);
  ConfigLimits limits;
  limits.max_line_bytes = 64 * 1024;
  WebConfig config = parse_apache({}, fs.source(), limits);
  ASSERT_EQ(config.sites.size(), 1u);
  ASSERT_EQ(config.errors.size(), 1u) << all_errors(config);
  EXPECT_TRUE(Contains(config.errors[0], "apache2.conf:2: line longer than 65536 bytes"));
}

TEST(ParseApache, SubstitutionsAreBoundedInAll) {
  std::string text = "Define a " + std::string(1000, 'x') + "\n<VirtualHost *:80>\n";
  for (int i = 0; i < 5000; ++i) text += "  ServerAlias ${a} ${a}\n";  // 10 MB once substituted
  text += "</VirtualHost>\n";
  MemoryFiles fs = apache_main(text);
  ConfigLimits limits;
  limits.max_total_bytes = 1 << 20;
  WebConfig config = parse_apache({}, fs.source(), limits);
  ASSERT_EQ(config.sites.size(), 1u);
  EXPECT_EQ(config.sites[0].domains.size(), 10'000u);
  EXPECT_EQ(config.sites[0].domains.back(), "${a}");
  ASSERT_EQ(config.errors.size(), 1u) << all_errors(config);
  EXPECT_TRUE(Contains(config.errors[0], "substitutions add more than 1048576 bytes in all"));
}

TEST(ParseApache, SectionNestingBombIsBounded) {
  std::string text;
  for (int i = 0; i < 100'000; ++i) text += "<IfModule m>\n";
  for (int i = 0; i < 100'000; ++i) text += "</IfModule>\n";
  text += "Listen 80\n<VirtualHost *:80>\n ServerName after\n</VirtualHost>\n";
  MemoryFiles fs = apache_main(text);
  WebConfig config = parse_apache({}, fs.source());
  ASSERT_EQ(config.sites.size(), 1u);
  EXPECT_EQ(config.sites[0].ports, (Ports{80}));
  ASSERT_EQ(config.errors.size(), 1u) << all_errors(config);
  EXPECT_TRUE(Contains(config.errors[0], "sections nested deeper than 64"));
}

// ---------------------------------------------------------------------------------------------
// Tomcat

// Tomcat 10's conf/server.xml as Debian ships it in tomcat10, comments shortened.
constexpr const char* default_server_xml = R"XML(<?xml version="1.0" encoding="UTF-8"?>
<!--
  Licensed to the Apache Software Foundation (ASF) under one or more
  contributor license agreements.  See the NOTICE file distributed with
  this work for additional information regarding copyright ownership.
-->
<!-- Note:  A "Server" is not itself a "Container", so you may not
     define subcomponents such as "Valves" at this level.
     Documentation at /docs/config/server.html
 -->
<Server port="-1" shutdown="SHUTDOWN">
  <Listener className="org.apache.catalina.startup.VersionLoggerListener" />
  <!--APR library loader. Documentation at /docs/apr.html -->
  <Listener className="org.apache.catalina.core.AprLifecycleListener" SSLEngine="on" />
  <!-- Prevent memory leaks due to use of particular java/javax APIs-->
  <Listener className="org.apache.catalina.core.JreMemoryLeakPreventionListener" />
  <Listener className="org.apache.catalina.mbeans.GlobalResourcesLifecycleListener" />
  <Listener className="org.apache.catalina.core.ThreadLocalLeakPreventionListener" />

  <!-- Global JNDI resources
       Documentation at /docs/jndi-resources-howto.html
  -->
  <GlobalNamingResources>
    <!-- Editable user database that can also be used by
         UserDatabaseRealm to authenticate users
    -->
    <Resource name="UserDatabase" auth="Container"
              type="org.apache.catalina.UserDatabase"
              description="User database that can be updated and saved"
              factory="org.apache.catalina.users.MemoryUserDatabaseFactory"
              pathname="conf/tomcat-users.xml" />
  </GlobalNamingResources>

  <!-- A "Service" is a collection of one or more "Connectors" that share
       a single "Container" Note:  A "Service" is not itself a "Container",
       so you may not define subcomponents such as "Valves" at this level.
       Documentation at /docs/config/service.html
   -->
  <Service name="Catalina">

    <!--The connectors can use a shared executor, you can define one or more named thread pools-->
    <!--
    <Executor name="tomcatThreadPool" namePrefix="catalina-exec-"
        maxThreads="150" minSpareThreads="4"/>
    -->


    <!-- A "Connector" represents an endpoint by which requests are received
         and responses are returned. Documentation at :
         HTTP Connector: /docs/config/http.html
         AJP  Connector: /docs/config/ajp.html
         Define a non-SSL/TLS HTTP/1.1 Connector on port 8080
    -->
    <Connector port="8080" protocol="HTTP/1.1"
               connectionTimeout="20000"
               redirectPort="8443"
               maxParameterCount="1000"
               />
    <!-- A "Connector" using the shared thread pool-->
    <!--
    <Connector executor="tomcatThreadPool"
               port="8080" protocol="HTTP/1.1"
               connectionTimeout="20000"
               redirectPort="8443"
               maxParameterCount="1000"
               />
    -->
    <!-- Define an SSL/TLS HTTP/1.1 Connector on port 8443 with HTTP/2
         This connector uses the NIO implementation. The default
         SSLImplementation will depend on the presence of the APR/native
         library and the useOpenSSL attribute of the AprLifecycleListener.
    -->
    <!--
    <Connector port="8443" protocol="org.apache.coyote.http11.Http11NioProtocol"
               maxThreads="150" SSLEnabled="true"
               maxParameterCount="1000"
               >
        <UpgradeProtocol className="org.apache.coyote.http2.Http2Protocol" />
        <SSLHostConfig>
            <Certificate certificateKeystoreFile="conf/localhost-rsa.jks"
                         certificateKeystorePassword="changeit" type="RSA" />
        </SSLHostConfig>
    </Connector>
    -->

    <!-- Define an AJP 1.3 Connector on port 8009 -->
    <!--
    <Connector protocol="AJP/1.3"
               address="::1"
               port="8009"
               redirectPort="8443"
               maxParameterCount="1000"
               />
    -->

    <!-- An Engine represents the entry point (within Catalina) that processes
         every request.  The Engine implementation for Tomcat stand alone
         analyzes the HTTP headers included with the request, and passes them
         on to the appropriate Host (virtual host).
         Documentation at /docs/config/engine.html -->

    <!-- You should set jvmRoute to support load-balancing via AJP ie :
    <Engine name="Catalina" defaultHost="localhost" jvmRoute="jvm1">
    -->
    <Engine name="Catalina" defaultHost="localhost">

      <!--For clustering, please take a look at documentation at:
          /docs/cluster-howto.html  (simple how to)
          /docs/config/cluster.html (reference documentation) -->
      <!--
      <Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster"/>
      -->

      <!-- Use the LockOutRealm to prevent attempts to guess user passwords
           via a brute-force attack -->
      <Realm className="org.apache.catalina.realm.LockOutRealm">
        <!-- This Realm uses the UserDatabase configured in the global JNDI
             resources under the key "UserDatabase".  Any edits
             that are performed against this UserDatabase are immediately
             available for use by the Realm.  -->
        <Realm className="org.apache.catalina.realm.UserDatabaseRealm"
               resourceName="UserDatabase"/>
      </Realm>

      <Host name="localhost"  appBase="webapps"
            unpackWARs="true" autoDeploy="true">

        <!-- SingleSignOn valve, share authentication between web applications
             Documentation at: /docs/config/valve.html -->
        <!--
        <Valve className="org.apache.catalina.authenticator.SingleSignOn" />
        -->

        <!-- Access log processes all example.
             Documentation at: /docs/config/valve.html
             Note: The pattern used is equivalent to using pattern="common" -->
        <Valve className="org.apache.catalina.valves.AccessLogValve" directory="logs"
               prefix="localhost_access_log" suffix=".txt"
               pattern="%h %l %u %t &quot;%r&quot; %s %b" />

      </Host>
    </Engine>
  </Service>
</Server>
)XML";

TomcatStart tomcat_start() {
  return {.server_xml = "/var/lib/tomcat10/conf/server.xml", .catalina_base = "/var/lib/tomcat10"};
}

MemoryFiles tomcat_files(const std::string& server_xml) {
  MemoryFiles fs;
  fs.files["/var/lib/tomcat10/conf/server.xml"] = server_xml;
  return fs;
}

TEST(ParseTomcat, DefaultServerXml) {
  MemoryFiles fs = tomcat_files(default_server_xml);
  WebConfig config = parse_tomcat(tomcat_start(), fs.source());
  EXPECT_TRUE(config.errors.empty()) << all_errors(config);
  ASSERT_EQ(config.sites.size(), 1u);
  const WebSite& site = config.sites[0];
  EXPECT_EQ(site.server, "tomcat");
  EXPECT_EQ(site.domains, (Strings{"localhost"}));
  EXPECT_EQ(site.ports, (Ports{8080}));  // the commented 8443 and 8009 do not count
  EXPECT_EQ(site.document_root, "/var/lib/tomcat10/webapps");
  EXPECT_FALSE(site.tls);
  EXPECT_EQ(site.config_file, "/var/lib/tomcat10/conf/server.xml");
  EXPECT_EQ(site.line, line_of(default_server_xml, "<Host name=\"localhost\""));
  EXPECT_EQ(config.files_read, (Strings{"/var/lib/tomcat10/conf/server.xml"}));
}

TEST(ParseTomcat, TwoHostsWithAliasesAndAnSslConnector) {
  MemoryFiles fs = tomcat_files(R"XML(<?xml version="1.0" encoding="UTF-8"?>
<Server port="8005" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector port="8080" protocol="HTTP/1.1" redirectPort="8443"/>
    <Connector port="8443" protocol="org.apache.coyote.http11.Http11NioProtocol"
               maxThreads="150" SSLEnabled="true">
      <SSLHostConfig>
        <Certificate certificateKeystoreFile="conf/localhost-rsa.jks" type="RSA" />
      </SSLHostConfig>
    </Connector>
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps"/>
      <Host name="shop.example" appBase="/srv/shop-apps" unpackWARs="true">
        <Alias>www.shop.example</Alias>
        <Alias>
          store.example
        </Alias>
        <Valve className="org.apache.catalina.valves.AccessLogValve"/>
      </Host>
    </Engine>
  </Service>
</Server>
)XML");
  WebConfig config = parse_tomcat(tomcat_start(), fs.source());
  EXPECT_TRUE(config.errors.empty()) << all_errors(config);
  ASSERT_EQ(config.sites.size(), 2u);
  EXPECT_EQ(config.sites[0].domains, (Strings{"localhost"}));
  EXPECT_EQ(config.sites[0].ports, (Ports{8080, 8443}));
  EXPECT_TRUE(config.sites[0].tls);
  EXPECT_EQ(config.sites[1].domains,
            (Strings{"shop.example", "www.shop.example", "store.example"}));
  EXPECT_EQ(config.sites[1].document_root, "/srv/shop-apps");
  EXPECT_EQ(config.sites[1].ports, (Ports{8080, 8443}));
  EXPECT_TRUE(config.sites[1].tls);
  EXPECT_EQ(config.sites[1].line, 13u);
}

TEST(ParseTomcat, EachServiceHasItsOwnConnectors) {
  MemoryFiles fs = tomcat_files(R"XML(<Server>
  <Service name="plain">
    <Engine name="e1"><Host name="plain.example"/></Engine>
    <Connector port="9080"/>
  </Service>
  <Service name="scheme">
    <Connector port="9443" scheme="https"/>
    <Engine name="e2"><Host name="scheme.example"/></Engine>
  </Service>
  <Service name="secure">
    <Connector port="8009" protocol="AJP/1.3" secure="TRUE"/>
    <Connector port="${port.http}"/>
    <Engine name="e3"><Host name="secure.example" appBase="${catalina.base}/apps"/></Engine>
  </Service>
</Server>
)XML");
  WebConfig config = parse_tomcat(tomcat_start(), fs.source());
  ASSERT_EQ(config.sites.size(), 3u);
  EXPECT_EQ(config.sites[0].ports, (Ports{9080}));
  EXPECT_FALSE(config.sites[0].tls);
  EXPECT_EQ(config.sites[1].ports, (Ports{9443}));
  EXPECT_TRUE(config.sites[1].tls);
  EXPECT_EQ(config.sites[2].ports, (Ports{8009}));
  EXPECT_TRUE(config.sites[2].tls);
  EXPECT_EQ(config.sites[2].document_root, "/var/lib/tomcat10/apps");
  ASSERT_EQ(config.errors.size(), 1u) << all_errors(config);
  EXPECT_TRUE(Contains(config.errors[0], "Connector port \"${port.http}\" is not a port number"));
}

TEST(ParseTomcat, AppBasePaths) {
  MemoryFiles fs = tomcat_files(R"XML(<Server><Service name="s"><Connector port="8080"/>
<Engine name="e">
  <Host name="default"/>
  <Host name="relative" appBase="sites/relative"/>
  <Host name="absolute" appBase="/opt/apps"/>
  <Host name="home" appBase="${catalina.home}/webapps"/>
</Engine></Service></Server>)XML");
  WebConfig config = parse_tomcat(tomcat_start(), fs.source());
  EXPECT_TRUE(config.errors.empty()) << all_errors(config);
  ASSERT_EQ(config.sites.size(), 4u);
  EXPECT_EQ(config.sites[0].document_root, "/var/lib/tomcat10/webapps");
  EXPECT_EQ(config.sites[1].document_root, "/var/lib/tomcat10/sites/relative");
  EXPECT_EQ(config.sites[2].document_root, "/opt/apps");
  EXPECT_EQ(config.sites[3].document_root, "${catalina.home}/webapps");
}

TEST(ParseTomcat, EntitiesCdataCommentsAndInstructions) {
  MemoryFiles fs = tomcat_files(
      "\xEF\xBB\xBF<?xml version='1.0'?>\n"
      "<?some-instruction with <Host name=\"no\"/> inside ?>\n"
      "<Server>\n"
      "  <!-- <Service><Engine><Host name=\"commented.example\"/></Engine></Service> -->\n"
      "  <Service name='s'>\n"
      "    <Connector port='8080'\tscheme=\"http\"/>\n"
      "    <Engine name=\"e\">\n"
      "      <Host name='a&amp;b&#46;example&#x2E;com' appBase='apps&lt;1&gt;'>\n"
      "        <Alias><![CDATA[cdata.example]]></Alias>\n"
      "        <Alias>x&#x41;&apos;&quot;.example</Alias>\n"
      "        <Alias>caf&#xE9;.example</Alias>\n"
      "      </Host>\n"
      "    </Engine>\n"
      "  </Service>\n"
      "</Server>\n");
  WebConfig config = parse_tomcat(tomcat_start(), fs.source());
  EXPECT_TRUE(config.errors.empty()) << all_errors(config);
  ASSERT_EQ(config.sites.size(), 1u);
  EXPECT_EQ(config.sites[0].domains,
            (Strings{"a&b.example.com", "cdata.example", "xA'\".example", "caf\xC3\xA9.example"}));
  EXPECT_EQ(config.sites[0].document_root, "/var/lib/tomcat10/apps<1>");
}

TEST(ParseTomcat, MalformedXmlKeepsWhatWasRead) {
  struct Case {
    const char* tail;
    const char* error;
  };
  const Case cases[] = {
      {"<Host name=\"b\" appBase=>", "not well-formed"},
      {"<Host name=\"b\"></Engine>", "</Engine> does not close <Host>"},
      {"<Host name=\"b\" <", "not well-formed"},
      {"<!-- never closed", "comment not closed"},
      {"<Host name=\"b\"", "<Host> tag not closed"},
      {"<Host name=\"&undeclared;\"/>", "undefined entity"},
      {"<Host name=\"b\"/><Host name=\"c\" name=\"d\"/>", "duplicate attribute"},
      {"<Host name=\"b\"/></Engine></Service></Server><Server/>", "junk after document element"},
      {"", "end of file inside <Engine>"},
  };
  for (const auto& c : cases) {
    MemoryFiles fs = tomcat_files(
        std::string("<Server><Service name=\"s\"><Connector port=\"8080\"/>\n<Engine name=\"e\">"
                    "<Host name=\"a\"><Alias>kept.example</Alias></Host>\n") +
        c.tail);
    WebConfig config = parse_tomcat(tomcat_start(), fs.source());
    ASSERT_GE(config.sites.size(), 1u) << c.tail;
    EXPECT_EQ(config.sites[0].domains, (Strings{"a", "kept.example"})) << c.tail;
    EXPECT_EQ(config.sites[0].ports, (Ports{8080})) << c.tail;
    ASSERT_EQ(config.errors.size(), 1u) << c.tail << "\n" << all_errors(config);
    EXPECT_TRUE(Contains(config.errors[0], c.error)) << c.tail;
  }
}

// A DOCTYPE is refused whole: its entities are never declared, so never expanded nor fetched,
// and the document is not read (a server.xml has no use for one).
void expect_doctype_refused(const std::string& xml) {
  MemoryFiles fs = tomcat_files(xml);
  WebConfig config = parse_tomcat(tomcat_start(), fs.source());
  EXPECT_TRUE(config.sites.empty());
  ASSERT_EQ(config.errors.size(), 1u) << all_errors(config);
  EXPECT_TRUE(Contains(config.errors[0], "/var/lib/tomcat10/conf/server.xml:2: DOCTYPE refused"));
  EXPECT_EQ(fs.reads, (Strings{"/var/lib/tomcat10/conf/server.xml"}));  // nothing fetched
}

const char* const tomcat_body =
    "<Server><Service name=\"s\"><Connector port=\"8080\"/><Engine name=\"e\">\n"
    "<Host name=\"&lol9;\" appBase=\"&xxe;\"><Alias>&lol9;</Alias></Host>\n"
    "</Engine></Service></Server>\n";

TEST(ParseTomcat, BillionLaughsIsRefused) {
  std::string xml =
      "<?xml version=\"1.0\"?>\n"
      "<!DOCTYPE Server [\n"
      "  <!ENTITY lol \"lol\">\n"
      "  <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n";
  for (int i = 2; i <= 9; ++i) {
    std::string prev = "&lol" + std::to_string(i - 1) + ";";
    xml += "  <!ENTITY lol" + std::to_string(i) + " \"";
    for (int j = 0; j < 10; ++j) xml += prev;
    xml += "\">\n";
  }
  xml += "  <!ENTITY xxe \"x\">\n]>\n";
  expect_doctype_refused(xml + tomcat_body);
}

TEST(ParseTomcat, ExternalEntitiesAreNeverLoaded) {
  // As an entity of the internal subset, as a parameter entity, and as the external DTD itself.
  expect_doctype_refused(
      "<?xml version=\"1.0\"?>\n<!DOCTYPE Server [ <!ENTITY xxe SYSTEM \"file:///etc/passwd\"> "
      "<!ENTITY lol9 \"x\"> ]>\n" +
      std::string(tomcat_body));
  expect_doctype_refused(
      "<?xml version=\"1.0\"?>\n<!DOCTYPE Server [ <!ENTITY % p SYSTEM \"/etc/passwd\"> %p; ]>\n" +
      std::string(tomcat_body));
  expect_doctype_refused("<?xml version=\"1.0\"?>\n<!DOCTYPE Server SYSTEM \"/etc/passwd\">\n" +
                         std::string(tomcat_body));
  // Without a DOCTYPE the reference names nothing: an error, and the name is never looked up.
  MemoryFiles fs = tomcat_files(
      "<Server><Service name=\"s\"><Connector port=\"8080\"/><Engine name=\"e\">\n"
      "<Host name=\"first\"/>\n<Host name=\"&xxe;\"/></Engine></Service></Server>\n");
  WebConfig config = parse_tomcat(tomcat_start(), fs.source());
  ASSERT_EQ(config.sites.size(), 1u);
  EXPECT_EQ(config.sites[0].domains, (Strings{"first"}));
  ASSERT_EQ(config.errors.size(), 1u) << all_errors(config);
  EXPECT_TRUE(Contains(config.errors[0], "server.xml:3: undefined entity"));
  EXPECT_EQ(fs.reads, (Strings{"/var/lib/tomcat10/conf/server.xml"}));
}

TEST(ParseTomcat, ADoctypeWithoutEntitiesIsRefusedToo) {
  expect_doctype_refused("<?xml version=\"1.0\"?>\n<!DOCTYPE Server>\n" + std::string(tomcat_body));
}

TEST(ParseTomcat, ElementCountIsBounded) {
  std::string xml = "<Server><Service name=\"s\"><Connector port=\"8080\"/><Engine name=\"e\">";
  for (int i = 0; i < 5000; ++i) xml += "<Host name=\"h" + std::to_string(i) + "\"/>";
  xml += "</Engine></Service></Server>";
  MemoryFiles fs = tomcat_files(xml);
  ConfigLimits limits;
  limits.max_elements = 1000;
  WebConfig config = parse_tomcat(tomcat_start(), fs.source(), limits);
  EXPECT_EQ(config.sites.size(), 996u);  // Server, Service, Connector and Engine count too
  ASSERT_EQ(config.errors.size(), 1u) << all_errors(config);
  EXPECT_TRUE(Contains(config.errors[0], "more than 1000 elements: not read further"));
}

// A server.xml far larger than any real one, valid: read whole, in bounded time.
TEST(ParseTomcat, ALargeValidFileIsReadWhole) {
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Server port=\"8005\">\n";
  constexpr int services = 50, hosts = 500;
  for (int s = 0; s < services; ++s) {
    xml += "<Service name=\"s" + std::to_string(s) + "\">\n<Connector port=\"" +
           std::to_string(10000 + s) + "\" protocol=\"HTTP/1.1\"/>\n<Engine name=\"e\">\n";
    for (int h = 0; h < hosts; ++h) {
      const std::string name = "h" + std::to_string(h) + ".s" + std::to_string(s) + ".example";
      xml += "  <!-- host " + name + " -->\n  <Host name=\"" + name + "\" appBase=\"apps/" + name +
             "\">\n    <Alias>www." + name + "</Alias>\n    <Valve className=\"x.Y\"/>\n  </Host>\n";
    }
    xml += "</Engine>\n</Service>\n";
  }
  xml += "</Server>\n";
  ASSERT_GT(xml.size(), 4u << 20);
  ASSERT_LT(xml.size(), ConfigLimits{}.max_file_bytes);
  MemoryFiles fs = tomcat_files(xml);
  WebConfig config = parse_tomcat(tomcat_start(), fs.source());
  EXPECT_TRUE(config.errors.empty()) << all_errors(config);
  ASSERT_EQ(config.sites.size(), static_cast<std::size_t>(services * hosts));
  const WebSite& last = config.sites.back();
  EXPECT_EQ(last.domains, (Strings{"h499.s49.example", "www.h499.s49.example"}));
  EXPECT_EQ(last.ports, (Ports{10049}));
  EXPECT_EQ(last.document_root, "/var/lib/tomcat10/apps/h499.s49.example");
  EXPECT_EQ(last.line, line_of(xml, "<Host name=\"h499.s49.example\""));
}

TEST(ParseTomcat, NestingBombIsBounded) {
  std::string xml =
      "<Server><Service name=\"s\"><Connector port=\"8080\"/><Engine name=\"e\">"
      "<Host name=\"first\"/>";
  for (int i = 0; i < 100'000; ++i) xml += "<a>";
  MemoryFiles fs = tomcat_files(xml);
  WebConfig config = parse_tomcat(tomcat_start(), fs.source());
  ASSERT_EQ(config.sites.size(), 1u);
  ASSERT_EQ(config.errors.size(), 1u) << all_errors(config);
  EXPECT_TRUE(Contains(config.errors[0], "elements nested deeper than 64"));
}

TEST(ParseTomcat, UnreadableServerXml) {
  MemoryFiles fs;
  WebConfig config = parse_tomcat(tomcat_start(), fs.source());
  EXPECT_TRUE(config.sites.empty());
  ASSERT_EQ(config.errors.size(), 1u);
  EXPECT_EQ(config.errors[0], "cannot read /var/lib/tomcat10/conf/server.xml");
}

// bind_address: the address of the listen that gives the first (lowest) port, "" for a wildcard.
TEST(ParseNginx, BindAddressOfTheLowestPortsListen) {
  MemoryFiles fs = one_file(
      "server { server_name a; listen 127.0.0.1:8080; listen 10.0.0.1:9090; }\n"
      "server { server_name b; listen [::1]:443 ssl; }\n"
      "server { server_name c; listen 8000; listen 192.0.2.1:8001; }\n"
      "server { server_name d; listen *:80; listen 0.0.0.0:81; listen [::]:82; }\n"
      "server { server_name e; listen 192.0.2.7:80; listen 80; }\n"
      "server { server_name f; listen localhost; }\n"
      "server { server_name g; }\n");
  WebConfig config = parse_nginx({}, fs.source());
  ASSERT_EQ(config.sites.size(), 7u);
  EXPECT_EQ(site_named(config, "a")->bind_address, "127.0.0.1");
  EXPECT_EQ(site_named(config, "b")->bind_address, "::1");
  EXPECT_EQ(site_named(config, "c")->bind_address, "");
  EXPECT_EQ(site_named(config, "d")->bind_address, "");
  EXPECT_EQ(site_named(config, "e")->bind_address, "");  // the same port on every address too
  EXPECT_EQ(site_named(config, "f")->bind_address, "localhost");
  EXPECT_EQ(site_named(config, "g")->bind_address, "");
}

TEST(ParseNginx, CertificateFileOfTlsSitesOnly) {
  MemoryFiles fs;
  fs.files["/etc/nginx/nginx.conf"] =
      "http {\n"
      "  ssl_certificate certs/default.pem;\n"
      "  server { server_name a; listen 443 ssl; ssl_certificate /etc/ssl/a.pem;"
      " ssl_certificate /etc/ssl/a-ecdsa.pem; }\n"
      "  server { server_name b; listen 8443 ssl; }\n"
      "  server { server_name c; listen 80; ssl_certificate /etc/ssl/c.pem; }\n"
      "  server { server_name d; listen 443 ssl; ssl_certificate $ssl_server_name.pem; }\n"
      "}\n";
  WebConfig config = parse_nginx({}, fs.source());
  ASSERT_EQ(config.sites.size(), 4u);
  EXPECT_EQ(site_named(config, "a")->certificate_file, "/etc/ssl/a.pem");  // the first one
  EXPECT_EQ(site_named(config, "b")->certificate_file, "/etc/nginx/certs/default.pem");
  EXPECT_EQ(site_named(config, "c")->certificate_file, "");  // not a TLS site
  EXPECT_EQ(site_named(config, "d")->certificate_file, "");  // chosen per connection
}

TEST(ParseApache, BindAddressAndCertificateFile) {
  MemoryFiles fs = apache_main(
      "Listen 80\n"
      "SSLCertificateFile /etc/ssl/main.pem\n"
      "<VirtualHost 192.0.2.1:443>\n ServerName a\n SSLEngine on\n"
      " SSLCertificateFile ssl/a.pem\n</VirtualHost>\n"
      "<VirtualHost [::1]:8443>\n ServerName b\n SSLEngine on\n</VirtualHost>\n"
      "<VirtualHost *:80>\n ServerName c\n SSLCertificateFile /etc/ssl/c.pem\n</VirtualHost>\n"
      "<VirtualHost _default_:80>\n ServerName d\n</VirtualHost>\n");
  WebConfig config = parse_apache({}, fs.source());
  ASSERT_EQ(config.sites.size(), 4u) << all_errors(config);
  EXPECT_EQ(site_named(config, "a")->bind_address, "192.0.2.1");
  EXPECT_EQ(site_named(config, "a")->certificate_file, "/etc/apache2/ssl/a.pem");
  EXPECT_EQ(site_named(config, "b")->bind_address, "::1");
  EXPECT_EQ(site_named(config, "b")->certificate_file, "/etc/ssl/main.pem");  // the server's
  EXPECT_EQ(site_named(config, "c")->bind_address, "");
  EXPECT_EQ(site_named(config, "c")->certificate_file, "");  // no SSLEngine on: not TLS
  EXPECT_EQ(site_named(config, "d")->bind_address, "");
}

TEST(ParseTomcat, ConnectorAddressAndPemCertificate) {
  MemoryFiles fs = tomcat_files(R"XML(<?xml version="1.0" encoding="UTF-8"?>
<Server port="8005" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector port="8443" address="127.0.0.1" SSLEnabled="true">
      <SSLHostConfig>
        <Certificate certificateFile="conf/cert.pem" certificateKeyFile="conf/key.pem"/>
      </SSLHostConfig>
    </Connector>
    <Connector port="9443" SSLEnabled="true" SSLCertificateFile="/etc/ssl/other.pem"/>
    <Engine name="Catalina" defaultHost="localhost"><Host name="localhost"/></Engine>
  </Service>
  <Service name="Keystore">
    <Connector port="8080" address="0.0.0.0"/>
    <Connector port="8444" SSLEnabled="true">
      <SSLHostConfig><Certificate certificateKeystoreFile="conf/ks.jks"/></SSLHostConfig>
    </Connector>
    <Engine name="K" defaultHost="k"><Host name="k"/></Engine>
  </Service>
</Server>
)XML");
  WebConfig config = parse_tomcat(tomcat_start(), fs.source());
  EXPECT_TRUE(config.errors.empty()) << all_errors(config);
  ASSERT_EQ(config.sites.size(), 2u);
  EXPECT_EQ(site_named(config, "localhost")->bind_address, "127.0.0.1");
  EXPECT_EQ(site_named(config, "localhost")->certificate_file, "/var/lib/tomcat10/conf/cert.pem");
  EXPECT_EQ(site_named(config, "k")->bind_address, "");
  EXPECT_EQ(site_named(config, "k")->certificate_file, "");  // a keystore is not read
}

}  // namespace
}  // namespace hostprint::collectors
