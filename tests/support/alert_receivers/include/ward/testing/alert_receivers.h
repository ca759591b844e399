// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ward/common/result.h"

namespace ward::testing {

struct ReceivedRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::chrono::steady_clock::time_point at;
};

// An HTTPS server (Poco HTTPServer, TLS with the given certificate) on 127.0.0.1, any free port,
// recording every request. The first `fail_first` requests are answered 500, the rest 204.
// Thread-safe.
class WebhookReceiver {
 public:
  static Result<std::unique_ptr<WebhookReceiver>> Start(const std::filesystem::path& cert,
                                                        const std::filesystem::path& key,
                                                        int fail_first = 0);
  ~WebhookReceiver();
  std::uint16_t port() const;
  std::string url() const;  // https://127.0.0.1:<port>/ward-hook
  // Waits until at least `n` requests arrived or `timeout` passed; returns all so far.
  std::vector<ReceivedRequest> WaitFor(std::size_t n, std::chrono::milliseconds timeout);

  struct State;

 private:
  WebhookReceiver() = default;
  std::unique_ptr<State> state_;
};

struct ReceivedMail {
  std::string ehlo;
  std::string mail_from;
  std::vector<std::string> rcpt_to;
  std::string data;  // headers and body, as sent between DATA and the final "."
  bool starttls_asked = false;
};

// Just enough of an RFC 5321 server for Poco's SMTP client, on 127.0.0.1, any free port, in
// plain text: EHLO/HELO, STARTTLS (refused with 502: not offered), MAIL FROM, RCPT TO, DATA,
// RSET, NOOP, QUIT. One connection at a time. Thread-safe.
class SmtpReceiver {
 public:
  static Result<std::unique_ptr<SmtpReceiver>> Start();
  ~SmtpReceiver();
  std::uint16_t port() const;
  std::vector<ReceivedMail> WaitFor(std::size_t n, std::chrono::milliseconds timeout);

  struct State;

 private:
  SmtpReceiver() = default;
  std::unique_ptr<State> state_;
};

}  // namespace ward::testing
