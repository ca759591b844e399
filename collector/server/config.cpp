// SPDX-License-Identifier: Apache-2.0
#include "ward/collector/server/config.h"

#include <algorithm>
#include <charconv>
#include <fstream>

namespace ward::collector {
namespace {

std::string Trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) {
    return {};
  }
  const auto e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

template <typename T>
Result<T> Number(const ConfigValues& v, const std::string& key, T fallback) {
  if (!v.Has(key)) {
    return fallback;
  }
  const std::string text = v.Get(key);
  T out{};
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || p != text.data() + text.size() || out < T{}) {
    return InvalidArgumentError("'" + key + "' must be a non-negative number, got '" + text + "'");
  }
  return out;
}

Result<std::string> SecretFile(const ConfigValues& v, const std::string& key) {
  const std::string path = v.Get(key);
  std::ifstream in(path, std::ios::binary);
  if (path.empty() || !in) {
    return InvalidArgumentError("cannot read '" + key + "' " + path);
  }
  std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) {
    secret.pop_back();
  }
  if (secret.empty()) {
    return InvalidArgumentError("'" + key + "' " + path + " is empty");
  }
  return secret;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    std::string item = Trim(std::string_view(text).substr(start, comma - start));
    if (!item.empty()) {
      out.push_back(std::move(item));
    }
    start = comma + 1;
  }
  return out;
}

// The retention job's settings: each limit at least one day (or year).
Status ResolveRetention(const ConfigValues& v, CollectorOptions& o) {
  constexpr std::int64_t kDay = RetentionLimits::kDayMs;
  constexpr std::int64_t kYear = 365 * kDay;
  const struct {
    const char* key;
    std::int64_t fallback;
    std::int64_t unit_ms;
    std::int64_t& limit;
  } limits[] = {{"retention_telemetry_days", 90, kDay, o.retention.telemetry_ms},
                {"retention_aup_days", 365, kDay, o.retention.aup_ms},
                {"retention_concern_years", 12, kYear, o.retention.concern_ms},
                {"retention_audit_years", 6, kYear, o.retention.audit_ms},
                {"device_unseen_days", 90, kDay, o.retention.device_unseen_ms}};
  for (const auto& l : limits) {
    WARD_ASSIGN_OR_RETURN(auto n, Number<std::int64_t>(v, l.key, l.fallback));
    if (n < 1 || n > 1000) {
      return InvalidArgumentError("'" + std::string(l.key) + "' must be between 1 and 1000");
    }
    l.limit = n * l.unit_ms;
  }
  WARD_ASSIGN_OR_RETURN(auto hours, Number<long>(v, "retention_interval_hours", 24));
  o.retention_interval = std::chrono::hours(hours);
  WARD_ASSIGN_OR_RETURN(o.retention_batch_rows,
                        Number<std::size_t>(v, "retention_batch_rows", 1000));
  if (o.retention_batch_rows < 1) {
    return InvalidArgumentError("'retention_batch_rows' must be at least 1");
  }
  return OkStatus();
}

Result<AlertConfig> ResolveAlertConfig(const ConfigValues& v) {
  AlertConfig a;
  a.site = v.Get("alert_site_name");
  a.console_url = v.Get("alert_console_url");
  WARD_ASSIGN_OR_RETURN(a.max_attempts, Number<int>(v, "alert_max_attempts", 12));
  if (a.max_attempts < 1) {
    return InvalidArgumentError("'alert_max_attempts' must be at least 1");
  }
  WARD_ASSIGN_OR_RETURN(auto first, Number<long>(v, "alert_retry_first_ms", 2000));
  WARD_ASSIGN_OR_RETURN(auto most, Number<long>(v, "alert_retry_max_ms", 300000));
  a.first_retry = std::chrono::milliseconds(std::max(1L, first));
  a.max_retry = std::chrono::milliseconds(std::max(first, most));
  WARD_ASSIGN_OR_RETURN(auto lease, Number<long>(v, "alert_claim_lease_seconds", 30));
  if (lease < 1) {
    return InvalidArgumentError("'alert_claim_lease_seconds' must be at least 1");
  }
  a.claim_lease = std::chrono::seconds(lease);
  if (v.Has("webhook_url")) {
    WebhookConfig w;
    w.url = v.Get("webhook_url");
    WARD_ASSIGN_OR_RETURN(w.secret, SecretFile(v, "webhook_secret_file"));
    w.ca_file = v.Get("webhook_ca_file");
    WARD_ASSIGN_OR_RETURN(auto timeout, Number<long>(v, "webhook_timeout_seconds", 10));
    w.timeout = std::chrono::seconds(std::max(1L, timeout));
    a.webhook = std::move(w);
  }
  if (v.Has("smtp_host")) {
    SmtpConfig m;
    m.host = v.Get("smtp_host");
    WARD_ASSIGN_OR_RETURN(auto port, Number<unsigned>(v, "smtp_port", 587));
    if (port == 0 || port > 65535) {
      return InvalidArgumentError("'smtp_port' " + std::to_string(port) + " is out of range");
    }
    m.port = static_cast<std::uint16_t>(port);
    m.from = v.Get("smtp_from");
    m.to = SplitList(v.Get("smtp_to"));
    const std::string starttls = v.Get("smtp_starttls", "auto");
    if (starttls == "auto") {
      m.starttls = SmtpConfig::StartTls::kAuto;
    } else if (starttls == "required") {
      m.starttls = SmtpConfig::StartTls::kRequired;
    } else if (starttls == "off") {
      m.starttls = SmtpConfig::StartTls::kOff;
    } else {
      return InvalidArgumentError("'smtp_starttls' must be auto, required or off, got '" +
                                  starttls + "'");
    }
    m.user = v.Get("smtp_user");
    if (!m.user.empty()) {
      WARD_ASSIGN_OR_RETURN(m.password, SecretFile(v, "smtp_password_file"));
    }
    m.ca_file = v.Get("smtp_ca_file");
    WARD_ASSIGN_OR_RETURN(auto timeout, Number<long>(v, "smtp_timeout_seconds", 30));
    m.timeout = std::chrono::seconds(std::max(1L, timeout));
    a.smtp = std::move(m);
  }
  return a;
}

}  // namespace

const std::vector<std::pair<std::string_view, std::string_view>>& ServeConfigKeys() {
  static const std::vector<std::pair<std::string_view, std::string_view>> kKeys = {
      {"config", "config file to read first (key = value lines)"},
      {"data_dir", "directory made by `ward-collector init` (defaults for the keys below)"},
      {"listen", "address:port to serve on (default 127.0.0.1:8443)"},
      {"storage", "sqlite:<file> or postgresql:<libpq conninfo>"},
      {"tls_cert", "server certificate chain (PEM)"},
      {"tls_key", "server private key (PEM)"},
      {"workers", "handler threads (default 4)"},
      {"max_body_bytes", "largest request body accepted (default 8388608)"},
      {"max_events_per_batch", "largest event batch accepted (default 10000)"},
      {"max_connections", "open connections at most (default 20000)"},
      {"max_connections_per_address",
       "open connections from one address at most, up to half of max_connections (default 256)"},
      {"device_rate_per_second", "per-device sustained request rate (default 5)"},
      {"device_burst", "per-device burst (default 30)"},
      {"concern_quota_per_hour",
       "concerns a laptop may send an hour, not counting \"in danger now\" (default 20)"},
      {"concern_quota_bytes_per_day",
       "their text and screenshots a day, in bytes (default 67108864)"},
      {"enrol_per_address_per_minute", "enrolments per source address and minute (default 6)"},
      {"enrol_address_burst", "enrolments per source address at once (default 20)"},
      {"enrol_per_group_per_minute", "enrolments per group and minute (default 30)"},
      {"enrol_group_burst", "enrolments per group at once (default 200)"},
      {"long_poll_max_seconds", "longest a policy fetch is held (default 30)"},
      {"log_level", "debug, info, warning or error (default info)"},
      {"console", "on: serve the staff console under /console/ (default off)"},
      {"console_dir", "the console's files (default: where the package installs them)"},
      {"console_idle_seconds", "console sessions end after this long unused (default 1800)"},
      {"console_session_max_seconds", "and this long after sign-in (default 43200)"},
      {"console_sign_ins_per_minute", "sign-in attempts per address and minute (default 10)"},
      {"console_sign_in_burst", "sign-in attempts per address at once (default 10)"},
      {"alert_site_name", "site name shown in concern alerts"},
      {"alert_console_url", "link in concern alerts; {id} becomes the concern id"},
      {"alert_max_attempts", "delivery attempts per alert and channel (default 12)"},
      {"alert_retry_first_ms", "first retry delay, doubled each time (default 2000)"},
      {"alert_retry_max_ms", "longest retry delay (default 300000)"},
      {"alert_claim_lease_seconds",
       "how long a collector's claim on an alert holds unrenewed (default 30)"},
      {"webhook_url", "https:// URL that gets a signed JSON POST per new concern"},
      {"webhook_secret_file", "file holding the HMAC-SHA256 key for X-Ward-Signature"},
      {"webhook_ca_file", "CA file to trust for the webhook (default: system CAs)"},
      {"webhook_timeout_seconds", "per-attempt webhook timeout (default 10)"},
      {"smtp_host", "mail relay for concern alerts"},
      {"smtp_port", "mail relay port (default 587)"},
      {"smtp_from", "sender address of concern alerts"},
      {"smtp_to", "recipient addresses, comma-separated (the DSL and deputies)"},
      {"smtp_starttls", "auto, required or off (default auto)"},
      {"smtp_user", "SMTP AUTH LOGIN user (only ever sent over STARTTLS)"},
      {"smtp_password_file", "file holding the SMTP password"},
      {"smtp_ca_file", "CA file to trust for STARTTLS (default: system CAs)"},
      {"smtp_timeout_seconds", "per-attempt SMTP timeout (default 30)"},
      {"retention_interval_hours",
       "the retention job runs at start and then this often; 0: never (default 24)"},
      {"retention_telemetry_days",
       "USB, application, settings and agent events are kept this long (default 90)"},
      {"retention_aup_days",
       "AUP acceptances are kept this long after the account's newest event (default 365)"},
      {"retention_concern_years",
       "closed concerns, with their incident log, are kept this long after closing (default 12)"},
      {"retention_audit_years", "audit log rows are kept this long (default 6)"},
      {"device_unseen_days", "devices not seen this long are flagged, never deleted (default 90)"},
      {"retention_batch_rows", "records deleted per transaction (default 1000)"},
  };
  return kKeys;
}

Status ConfigValues::LoadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    return NotFoundError("cannot read config file " + path.string());
  }
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (const auto hash = line.find('#'); hash != std::string::npos) {
      line.resize(hash);
    }
    const std::string text = Trim(line);
    if (text.empty()) {
      continue;
    }
    const auto eq = text.find('=');
    if (eq == std::string::npos) {
      return InvalidArgumentError(path.string() + ":" + std::to_string(number) +
                                  ": expected `key = value`");
    }
    values_[Trim(text.substr(0, eq))] = Trim(text.substr(eq + 1));
  }
  return OkStatus();
}

Result<std::vector<std::string>> ConfigValues::ApplyFlags(std::span<const std::string> args) {
  std::vector<std::string> positional;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (!a.starts_with("--") || a == "--") {
      positional.push_back(a);
      continue;
    }
    std::string key = a.substr(2);
    std::string value;
    if (const auto eq = key.find('='); eq != std::string::npos) {
      value = key.substr(eq + 1);
      key.resize(eq);
    } else if (key == "help") {
      value = "1";
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return InvalidArgumentError("--" + key + " needs a value");
    }
    std::replace(key.begin(), key.end(), '-', '_');
    values_[key] = value;
  }
  return positional;
}

std::string ConfigValues::Get(const std::string& key, const std::string& fallback) const {
  auto it = values_.find(key);
  return it == values_.end() ? fallback : it->second;
}

std::vector<std::string> ConfigValues::Keys() const {
  std::vector<std::string> keys;
  for (const auto& [k, v] : values_) {
    keys.push_back(k);
  }
  return keys;
}

Result<ServeConfig> ResolveServeConfig(const ConfigValues& v) {
  ServeConfig c;
  const std::filesystem::path data_dir = v.Get("data_dir");
  const std::string listen = v.Get("listen", "127.0.0.1:8443");
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return InvalidArgumentError("'listen' must be address:port, got '" + listen + "'");
  }
  c.options.listen_address = listen.substr(0, colon);
  ConfigValues port_value;
  port_value.Set("port", listen.substr(colon + 1));
  WARD_ASSIGN_OR_RETURN(auto port, Number<unsigned>(port_value, "port", 8443));
  if (port > 65535) {
    return InvalidArgumentError("port " + std::to_string(port) + " is out of range");
  }
  c.options.port = static_cast<std::uint16_t>(port);
  c.storage_url =
      v.Get("storage", data_dir.empty() ? "" : "sqlite:" + (data_dir / "collector.db").string());
  if (c.storage_url.empty()) {
    return InvalidArgumentError("say where the store is: --storage or --data-dir");
  }
  c.options.tls_cert =
      v.Get("tls_cert", data_dir.empty() ? "" : (data_dir / "server.pem").string());
  c.options.tls_key = v.Get("tls_key", data_dir.empty() ? "" : (data_dir / "server.key").string());
  WARD_ASSIGN_OR_RETURN(c.options.worker_threads, Number<int>(v, "workers", 4));
  WARD_ASSIGN_OR_RETURN(c.options.max_body_bytes,
                        Number<std::size_t>(v, "max_body_bytes", c.options.max_body_bytes));
  WARD_ASSIGN_OR_RETURN(c.options.max_events_per_batch,
                        Number<std::size_t>(v, "max_events_per_batch", 10000));
  WARD_ASSIGN_OR_RETURN(c.options.max_connections,
                        Number<std::size_t>(v, "max_connections", 20000));
  WARD_ASSIGN_OR_RETURN(
      c.options.max_connections_per_address,
      Number<std::size_t>(v, "max_connections_per_address", c.options.max_connections_per_address));
  if (c.options.max_connections_per_address < 1) {
    return InvalidArgumentError("max_connections_per_address must be at least 1");
  }
  WARD_ASSIGN_OR_RETURN(c.options.device_rate_per_second,
                        Number<double>(v, "device_rate_per_second", 5.0));
  WARD_ASSIGN_OR_RETURN(c.options.device_burst, Number<double>(v, "device_burst", 30.0));
  WARD_ASSIGN_OR_RETURN(
      c.options.concern_quota_per_hour,
      Number<std::size_t>(v, "concern_quota_per_hour", c.options.concern_quota_per_hour));
  WARD_ASSIGN_OR_RETURN(
      c.options.concern_quota_bytes_per_day,
      Number<std::size_t>(v, "concern_quota_bytes_per_day", c.options.concern_quota_bytes_per_day));
  if (c.options.concern_quota_per_hour < 1 || c.options.concern_quota_bytes_per_day < 1) {
    return InvalidArgumentError("concern quotas must be at least 1");
  }
  WARD_ASSIGN_OR_RETURN(c.options.enrol_per_address_per_minute,
                        Number<double>(v, "enrol_per_address_per_minute", 6.0));
  WARD_ASSIGN_OR_RETURN(c.options.enrol_address_burst,
                        Number<double>(v, "enrol_address_burst", 20.0));
  WARD_ASSIGN_OR_RETURN(c.options.enrol_per_group_per_minute,
                        Number<double>(v, "enrol_per_group_per_minute", 30.0));
  WARD_ASSIGN_OR_RETURN(c.options.enrol_group_burst, Number<double>(v, "enrol_group_burst", 200.0));
  if (c.options.enrol_per_address_per_minute <= 0 || c.options.enrol_address_burst < 1 ||
      c.options.enrol_per_group_per_minute <= 0 || c.options.enrol_group_burst < 1) {
    return InvalidArgumentError("enrolment limits must be above zero (burst at least 1)");
  }
  WARD_ASSIGN_OR_RETURN(auto long_poll, Number<long>(v, "long_poll_max_seconds", 30));
  c.options.long_poll_max = std::chrono::seconds(long_poll);
  c.log_level = v.Get("log_level", "info");
  const std::string console = v.Get("console", "off");
  if (console != "on" && console != "off") {
    return InvalidArgumentError("'console' must be on or off, got '" + console + "'");
  }
  c.options.console = console == "on";
  c.options.console_dir = v.Get("console_dir", WARD_CONSOLE_DIR);
  WARD_ASSIGN_OR_RETURN(auto idle, Number<long>(v, "console_idle_seconds", 30 * 60));
  WARD_ASSIGN_OR_RETURN(auto most, Number<long>(v, "console_session_max_seconds", 12 * 60 * 60));
  if (idle < 1 || most < 1) {
    return InvalidArgumentError("console session timeouts must be at least 1 second");
  }
  c.options.console_idle = std::chrono::seconds(idle);
  c.options.console_session_max = std::chrono::seconds(most);
  WARD_ASSIGN_OR_RETURN(c.options.console_sign_ins_per_minute,
                        Number<double>(v, "console_sign_ins_per_minute", 10.0));
  WARD_ASSIGN_OR_RETURN(c.options.console_sign_in_burst,
                        Number<double>(v, "console_sign_in_burst", 10.0));
  if (c.options.console_sign_ins_per_minute <= 0 || c.options.console_sign_in_burst < 1) {
    return InvalidArgumentError("console sign-in limits must be above zero");
  }
  WARD_RETURN_IF_ERROR(ResolveRetention(v, c.options));
  WARD_ASSIGN_OR_RETURN(c.alerts, ResolveAlertConfig(v));
  return c;
}

}  // namespace ward::collector
