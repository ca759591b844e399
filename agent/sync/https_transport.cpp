// SPDX-License-Identifier: Apache-2.0
// CollectorTransport over Poco's HTTPS client. The CA is pinned (only the configured file is
// trusted) and OpenSSL checks the host name or IP address during the handshake, so a wrong
// server fails before any request byte is written.
#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/URI.h>
#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <istream>
#include <mutex>
#include <ostream>
#include <set>
#include <system_error>
#include <vector>

#include "ward/agent/sync/transport.h"

namespace ward::agent::sync {
namespace {

bool IsIpAddress(const std::string& host) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::optional<std::chrono::seconds> ParseRetryAfter(const Poco::Net::HTTPResponse& response) {
  if (!response.has("Retry-After")) {
    return std::nullopt;
  }
  const std::string& text = response.get("Retry-After");
  std::int64_t seconds = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || end != text.data() + text.size() || seconds < 0) {
    return std::nullopt;  // an HTTP date or junk: the caller's own backoff applies
  }
  return std::chrono::seconds(seconds);
}

class HttpsTransport final : public CollectorTransport {
 public:
  HttpsTransport(HttpsTransportOptions options, Poco::Net::Context::Ptr context, std::string host,
                 std::uint16_t port, std::string base_path)
      : options_(std::move(options)),
        context_(std::move(context)),
        host_(std::move(host)),
        port_(port),
        base_path_(std::move(base_path)) {}

  ~HttpsTransport() override {
    std::scoped_lock lock(mu_);
    idle_.clear();
  }

  Result<CollectorReply> Post(std::string_view path, std::string_view body, std::string_view bearer,
                              std::chrono::seconds timeout) override {
    // A kept-alive connection may have been closed by the collector (restart, idle timeout):
    // one retry on a fresh connection. Every device call is idempotent.
    for (int attempt = 0;; ++attempt) {
      bool reused = false;
      auto session = Acquire(reused);
      if (!session.has_value()) {
        return std::unexpected(session.error());
      }
      auto reply = PostOn(**session, path, body, bearer, timeout);
      Release(std::move(*session), reply.has_value());
      if (reply.has_value() || !reused || attempt > 0 || cancelled_.load()) {
        return reply;
      }
    }
  }

  void Cancel() override {
    std::scoped_lock lock(mu_);
    cancelled_ = true;
    // Only shutdown(2) from here: it wakes the thread blocked in SSL_read without touching the
    // TLS state that thread owns. The owner closes the socket after Release().
    for (Poco::Net::HTTPSClientSession* session : active_) {
      const auto fd = session->socket().impl()->sockfd();
      if (fd != POCO_INVALID_SOCKET) {
        ::shutdown(fd, SHUT_RDWR);
      }
    }
    idle_.clear();
  }

 private:
  using SessionPtr = std::unique_ptr<Poco::Net::HTTPSClientSession>;

  Result<SessionPtr> Acquire(bool& reused) {
    std::scoped_lock lock(mu_);
    if (cancelled_) {
      return MakeError(ErrorCode::kUnavailable, "sync is stopping");
    }
    SessionPtr session;
    if (!idle_.empty()) {
      session = std::move(idle_.back());
      idle_.pop_back();
      reused = true;
    } else {
      try {
        session = std::make_unique<Poco::Net::HTTPSClientSession>(host_, port_, context_);
      } catch (const Poco::Exception& e) {
        return MakeError(ErrorCode::kUnavailable, "cannot create an HTTPS session: " + e.message());
      }
      session->setKeepAlive(true);
    }
    active_.insert(session.get());
    return session;
  }

  void Release(SessionPtr session, bool reusable) {
    std::scoped_lock lock(mu_);
    active_.erase(session.get());
    if (reusable && !cancelled_ && idle_.size() < 4) {
      idle_.push_back(std::move(session));
    }
  }

  Result<CollectorReply> PostOn(Poco::Net::HTTPSClientSession& session, std::string_view path,
                                std::string_view body, std::string_view bearer,
                                std::chrono::seconds timeout) {
    const std::string where = "POST " + options_.url + std::string(path);
    try {
      session.setTimeout(Poco::Timespan(options_.connect_timeout.count(), 0),
                         Poco::Timespan(timeout.count(), 0), Poco::Timespan(timeout.count(), 0));
      Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST,
                                     base_path_ + std::string(path),
                                     Poco::Net::HTTPMessage::HTTP_1_1);
      request.setContentType("application/x-protobuf");
      request.setContentLength(static_cast<std::streamsize>(body.size()));
      request.setKeepAlive(true);
      if (!bearer.empty()) {
        request.set("Authorization", "Bearer " + std::string(bearer));
      }
      std::ostream& out = session.sendRequest(request);
      out.write(body.data(), static_cast<std::streamsize>(body.size()));
      out.flush();
      if (!out.good()) {
        return MakeError(ErrorCode::kUnavailable, where + ": the connection broke while sending");
      }
      Poco::Net::HTTPResponse response;
      std::istream& in = session.receiveResponse(response);
      CollectorReply reply;
      reply.status = static_cast<int>(response.getStatus());
      reply.retry_after = ParseRetryAfter(response);
      if (response.hasContentLength() &&
          response.getContentLength64() > static_cast<std::int64_t>(options_.max_reply_bytes)) {
        session.reset();
        return MakeError(ErrorCode::kUnavailable, where + ": the answer is larger than " +
                                                      std::to_string(options_.max_reply_bytes) +
                                                      " bytes");
      }
      char buf[16384];
      while (in.read(buf, sizeof(buf)), in.gcount() > 0) {
        reply.body.append(buf, static_cast<std::size_t>(in.gcount()));
        if (reply.body.size() > options_.max_reply_bytes) {
          session.reset();
          return MakeError(ErrorCode::kUnavailable, where + ": the answer is too large");
        }
      }
      if (in.bad()) {
        return MakeError(ErrorCode::kUnavailable, where + ": the connection broke while reading");
      }
      return reply;
    } catch (const Poco::Net::SSLException& e) {
      session.reset();
      return TlsError(where, e.displayText());
    } catch (const Poco::Exception& e) {
      session.reset();
      if (cancelled_.load()) {
        return MakeError(ErrorCode::kUnavailable, where + ": cancelled (sync is stopping)");
      }
      return MakeError(ErrorCode::kUnavailable, where + ": " + e.displayText());
    } catch (const std::exception& e) {
      session.reset();
      return MakeError(ErrorCode::kUnavailable, where + ": " + e.what());
    }
  }

  std::unexpected<Error> TlsError(const std::string& where, const std::string& detail) const {
    if (detail.find("certificate verify failed") != std::string::npos ||
        detail.find("certificate") != std::string::npos) {
      return MakeError(ErrorCode::kUnauthenticated,
                       where + ": the collector's certificate is not signed by the pinned CA (" +
                           options_.ca_file.string() + ") or does not name " + host_ +
                           "; nothing was sent (" + detail + ")");
    }
    if (cancelled_.load()) {
      return MakeError(ErrorCode::kUnavailable, where + ": cancelled (sync is stopping)");
    }
    return MakeError(ErrorCode::kUnavailable, where + ": TLS failed: " + detail);
  }

  const HttpsTransportOptions options_;
  Poco::Net::Context::Ptr context_;
  const std::string host_;
  const std::uint16_t port_;
  const std::string base_path_;

  std::mutex mu_;
  std::atomic<bool> cancelled_{false};
  std::set<Poco::Net::HTTPSClientSession*> active_;  // guarded by mu_
  std::vector<SessionPtr> idle_;                     // guarded by mu_
};

}  // namespace

Result<std::unique_ptr<CollectorTransport>> CreateHttpsTransport(
    const HttpsTransportOptions& options) {
  static std::once_flag ssl_once;
  std::call_once(ssl_once, [] { Poco::Net::initializeSSL(); });
  try {
    Poco::URI uri(options.url);
    if (uri.getScheme() != "https" || uri.getHost().empty()) {
      return MakeError(
          ErrorCode::kInvalidArgument,
          "the collector URL must look like https://host:port, not \"" + options.url + "\"");
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(options.ca_file, ec)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "the collector CA file " + options.ca_file.string() + " does not exist");
    }
    Poco::Net::Context::Params params;
    params.caLocation = options.ca_file.string();
    params.loadDefaultCAs = false;
    params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
    params.verificationDepth = 9;
    params.cipherList = "HIGH:!aNULL:!MD5:!RC4:!3DES";
    Poco::Net::Context::Ptr context =
        new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    // OpenSSL checks the name (RFC 6125, IP SANs included) as part of chain verification.
    context->enableExtendedCertificateVerification(false);
    X509_VERIFY_PARAM* param = SSL_CTX_get0_param(context->sslContext());
    const std::string host = uri.getHost();
    const int ok = IsIpAddress(host) ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                                     : X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
    if (ok != 1) {
      return MakeError(ErrorCode::kInvalidArgument, "cannot verify against host " + host);
    }
    std::string base = uri.getPath();
    while (!base.empty() && base.back() == '/') {
      base.pop_back();
    }
    return std::make_unique<HttpsTransport>(options, context, host, uri.getPort(), base);
  } catch (const Poco::Exception& e) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cannot set up TLS for " + options.url + ": " + e.displayText());
  }
}

}  // namespace ward::agent::sync
