// SPDX-License-Identifier: Apache-2.0
// The staff console unit: static files under /console/ and the session calls.
#include "internal/console_api.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <openssl/evp.h>

#include <array>
#include <fstream>
#include <sstream>

#include "internal/console_session.h"
#include "internal/responses.h"
#include "ward/collector/storage/secrets.h"
#include "ward/common/log.h"

namespace ward::collector::internal {
namespace {

constexpr std::size_t kMaxFileBytes = 4 * 1024 * 1024;
constexpr std::size_t kMaxTotalBytes = 32 * 1024 * 1024;
// A sign-in is {"token": "wst_..."}.
constexpr std::size_t kSignInBody = 4 * 1024;
constexpr std::string_view kNotOn = "the staff console is not turned on on this collector";

std::string ContentTypeFor(const std::filesystem::path& path) {
  const std::string ext = path.extension().string();
  if (ext == ".html") {
    return "text/html; charset=utf-8";
  }
  if (ext == ".mjs" || ext == ".js") {
    return "text/javascript; charset=utf-8";
  }
  if (ext == ".css") {
    return "text/css; charset=utf-8";
  }
  if (ext == ".svg") {
    return "image/svg+xml";
  }
  if (ext == ".png") {
    return "image/png";
  }
  if (ext == ".ico") {
    return "image/x-icon";
  }
  if (ext == ".json") {
    return "application/json";
  }
  return "text/plain; charset=utf-8";  // LICENCE files and the like
}

// 'sha256-<base64>' of each inline <script> of a page (the import map), for script-src.
std::string InlineScriptHashes(const std::string& html) {
  std::string out;
  std::size_t at = 0;
  while ((at = html.find("<script", at)) != std::string::npos) {
    const std::size_t tag_end = html.find('>', at);
    const std::size_t close = html.find("</script>", tag_end);
    if (tag_end == std::string::npos || close == std::string::npos) {
      break;
    }
    const std::string tag = html.substr(at, tag_end - at);
    if (tag.find(" src=") == std::string::npos) {
      const std::string body = html.substr(tag_end + 1, close - tag_end - 1);
      std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
      unsigned int len = 0;
      EVP_Digest(body.data(), body.size(), digest.data(), &len, EVP_sha256(), nullptr);
      std::array<unsigned char, 64> b64{};
      const int n = EVP_EncodeBlock(b64.data(), digest.data(), static_cast<int>(len));
      out += " 'sha256-" +
             std::string(reinterpret_cast<const char*>(b64.data()), static_cast<std::size_t>(n)) +
             "'";
    }
    at = close;
  }
  return out;
}

std::string SessionCookie(const std::string& value, std::int64_t max_age_s) {
  return std::string(kSessionCookie) + "=" + value +
         "; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age_s);
}

void SetHeader(HttpResponse& r, std::string name, std::string value) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) {
      return;  // a handler's own value wins
    }
  }
  r.headers.emplace_back(std::move(name), std::move(value));
}

}  // namespace

void SecureApiResponse(HttpResponse& r) {
  SetHeader(r, "Cache-Control", "no-store");
  SetHeader(r, "X-Content-Type-Options", "nosniff");
  SetHeader(r, "Referrer-Policy", "no-referrer");
  SetHeader(r, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
}

ConsoleApi::ConsoleApi(const CollectorOptions& options, Storage& storage, const Clock& clock)
    : options_(options),
      storage_(storage),
      clock_(clock),
      sign_in_limiter_(clock, options.console_sign_ins_per_minute / 60.0,
                       options.console_sign_in_burst) {}

Status ConsoleApi::Load() {
  if (!options_.console) {
    return OkStatus();
  }
  namespace fs = std::filesystem;
  const fs::path& dir = options_.console_dir;
  std::error_code ec;
  if (dir.empty() || !fs::is_regular_file(dir / "index.html", ec)) {
    return InvalidArgumentError("console_dir '" + dir.string() +
                                "' holds no index.html (install the console's files, or turn "
                                "the console off)");
  }
  std::size_t total = 0;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    // Regular files only: a symbolic link cannot lead the server elsewhere on disk.
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) {
      continue;
    }
    const std::string name = fs::relative(it->path(), dir, ec).generic_string();
    const auto size = static_cast<std::size_t>(it->file_size(ec));
    if (ec || name.empty() || name.starts_with(".") || size > kMaxFileBytes ||
        total + size > kMaxTotalBytes) {
      continue;
    }
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    total += size;
    files_[name] = File{ContentTypeFor(it->path()), body.str()};
  }
  if (ec) {
    return InvalidArgumentError("cannot read console_dir '" + dir.string() + "': " + ec.message());
  }
  csp_ = "default-src 'none'; script-src 'self'" + InlineScriptHashes(files_["index.html"].body) +
         "; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; "
         "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
  log::Info("staff console on",
            {{"files", static_cast<std::int64_t>(files_.size())}, {"dir", dir.string()}});
  return OkStatus();
}

Status ConsoleApi::Register(Router& router) {
  router.SetErrorStyle("/console", ErrorStyle::kText);
  for (const char* pattern : {"/console", "/console/", "/console/{file:path}"}) {
    WARD_RETURN_IF_ERROR(
        router.Add(Route{"GET", pattern, 0, ErrorStyle::kText,
                         PublicHandler([this](const Call& c) { return Page(c); })}));
  }
  WARD_RETURN_IF_ERROR(
      router.Add(Route{"POST", "/v1/staff/session", kSignInBody, ErrorStyle::kJson,
                       PublicHandler([this](const Call& c) { return SignIn(c); })}));
  WARD_RETURN_IF_ERROR(router.Add(Route{
      "GET", "/v1/staff/session", 0, ErrorStyle::kJson,
      StaffHandler([this](const Call& c, const StaffPrincipal& w) { return WhoAmI(c, w); })}));
  return router.Add(Route{
      "POST", "/v1/staff/session/end", 0, ErrorStyle::kJson,
      StaffHandler([this](const Call& c, const StaffPrincipal& w) { return SignOut(c, w); })});
}

void ConsoleApi::Secure(const HttpRequest& request, HandlerResult& result) const {
  HttpResponse* r = std::get_if<HttpResponse>(&result);
  if (r == nullptr) {
    r = &std::get<Park>(result).on_timeout;
  }
  if (request.path.starts_with("/v1/staff/")) {
    SecureApiResponse(*r);
    return;
  }
  if (request.path == "/console" || request.path.starts_with("/console/")) {
    SetHeader(*r, "Content-Security-Policy",
              csp_.empty() ? "default-src 'none'; frame-ancestors 'none'" : csp_);
    // The console's files change only with an upgrade; the browser revalidates each load.
    SetHeader(*r, "Cache-Control", "no-cache");
    SetHeader(*r, "X-Content-Type-Options", "nosniff");
    SetHeader(*r, "Referrer-Policy", "no-referrer");
    SetHeader(*r, "X-Frame-Options", "DENY");
    SetHeader(*r, "Cross-Origin-Opener-Policy", "same-origin");
    SetHeader(*r, "Cross-Origin-Resource-Policy", "same-origin");
  }
}

HandlerResult ConsoleApi::Page(const Call& call) {
  if (!options_.console) {
    return ErrorResponse(ErrorStyle::kText, 404, kNotOn);
  }
  std::string name = "index.html";
  if (call.request.path.starts_with("/console/") && call.request.path.size() > 9) {
    name = call.params.Get("file");
  }
  auto it = files_.find(name);
  if (it == files_.end()) {
    return ErrorResponse(ErrorStyle::kText, 404, "the console has no file '" + name + "'");
  }
  HttpResponse r;
  r.content_type = it->second.content_type;
  r.body = it->second.body;
  return r;
}

HandlerResult ConsoleApi::SignIn(const Call& call) {
  const HttpRequest& request = call.request;
  if (!options_.console) {
    return ErrorResponse(ErrorStyle::kJson, 404, kNotOn);
  }
  const std::string peer = PeerAddress(request);
  if (auto wait = sign_in_limiter_.Acquire(peer); wait.has_value()) {
    log::Warning("console sign-in attempts limited", {{"peer", peer}});
    return TooManyRequests(ErrorStyle::kJson, *wait, "too many sign-in attempts; wait a minute");
  }
  // A cross-site HTML form cannot send JSON, nor fake the Origin a browser sends.
  if (!request.Header("content-type").starts_with("application/json")) {
    return ErrorResponse(ErrorStyle::kJson, 415, "send {\"token\": \"...\"} as application/json");
  }
  if (!SameOrigin(request)) {
    return ErrorResponse(ErrorStyle::kJson, 403, "sign in from the console's own page");
  }
  std::string token;
  try {
    auto body = Poco::JSON::Parser().parse(request.body).extract<Poco::JSON::Object::Ptr>();
    token = body->optValue<std::string>("token", "");
  } catch (const Poco::Exception&) {
    return ErrorResponse(ErrorStyle::kJson, 400, "send {\"token\": \"...\"}");
  }
  if (token.empty()) {
    return ErrorResponse(ErrorStyle::kJson, 400, "send {\"token\": \"...\"}");
  }
  const std::string token_hash = HashSecret(token);
  auto who = storage_.FindStaffByTokenHash(token_hash);
  if (!who.has_value()) {
    if (who.error().code() == ErrorCode::kUnauthenticated) {
      log::Warning("console sign-in refused", {{"peer", peer}});
      return ErrorResponse(ErrorStyle::kJson, 401,
                           "that token was not recognised, or it has been revoked");
    }
    return ErrorResponse(ErrorStyle::kJson, who.error());
  }
  if (who->role == StaffRole::kMetrics) {
    // A metrics token is for a monitoring system reading /metrics; nothing in the console is
    // for it, and a session would only be a second credential to steal.
    log::Warning("console sign-in refused: metrics token", {{"staff", who->name}, {"peer", peer}});
    return ErrorResponse(ErrorStyle::kJson, 403,
                         "a metrics token cannot sign in to the console; use a staff token");
  }
  const std::int64_t now = NowMs();
  const std::int64_t idle_ms = options_.console_idle.count() * 1000;
  const std::int64_t max_ms = options_.console_session_max.count() * 1000;
  if (auto purged = storage_.PurgeConsoleSessions(now - std::max(idle_ms, max_ms));
      !purged.has_value()) {
    log::Warning("cannot purge old console sessions", {{"error", purged.error().ToString()}});
  }
  const std::string id = NewSecret("wcs_");
  if (auto s = storage_.CreateConsoleSession({HashSecret(id), token_hash, now}); !s.has_value()) {
    return ErrorResponse(ErrorStyle::kJson, s.error());
  }
  log::Info(
      "console sign-in",
      {{"staff", who->name}, {"role", std::string(StaffRoleName(who->role))}, {"peer", peer}});
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("name", who->name);
  o->set("role", std::string(StaffRoleName(who->role)));
  o->set("csrf_token", CsrfTokenFor(id));
  o->set("idle_seconds", options_.console_idle.count());
  o->set("expires_ms", now + max_ms);
  HttpResponse r = Json(o);
  r.headers.emplace_back("Set-Cookie", SessionCookie(id, options_.console_session_max.count()));
  return r;
}

HandlerResult ConsoleApi::WhoAmI(const Call& call, const StaffPrincipal& who) {
  const std::string id = SessionIdFrom(call.request);
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("name", who.name);
  o->set("role", std::string(StaffRoleName(who.role)));
  o->set("csrf_token", id.empty() ? std::string() : CsrfTokenFor(id));
  o->set("idle_seconds", options_.console_idle.count());
  return Json(o);
}

HandlerResult ConsoleApi::SignOut(const Call& call, const StaffPrincipal& who) {
  const std::string id = SessionIdFrom(call.request);
  if (id.empty()) {
    return ErrorResponse(ErrorStyle::kJson, 400,
                         "this call ends a console session; you are not signed in to one");
  }
  if (auto s = storage_.EndConsoleSession(HashSecret(id), NowMs()); !s.has_value()) {
    return ErrorResponse(ErrorStyle::kJson, s.error());
  }
  log::Info("console sign-out", {{"staff", who.name}});
  HttpResponse r = Json(Poco::JSON::Object::Ptr(new Poco::JSON::Object));
  r.headers.emplace_back("Set-Cookie", SessionCookie("", 0));
  return r;
}

std::int64_t ConsoleApi::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
      .count();
}

}  // namespace ward::collector::internal
