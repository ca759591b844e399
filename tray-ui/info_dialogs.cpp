// SPDX-License-Identifier: Apache-2.0
#include "ward/tray/info_dialogs.h"

#include <QDialogButtonBox>
#include <QLabel>
#include <QPushButton>
#include <QTextBrowser>
#include <QVBoxLayout>

#include "ward/tray/agent_connection.h"
#include "ward/tray/tray_state.h"

namespace ward::tray {
namespace {

QString Html(const std::string& text) { return QString::fromStdString(text).toHtmlEscaped(); }

QString Paragraphs(const std::string& text) {
  QString out;
  for (const QString& para : QString::fromStdString(text).split(QStringLiteral("\n\n"))) {
    out += QStringLiteral("<p>") +
           para.toHtmlEscaped().replace(QLatin1Char('\n'), QStringLiteral("<br>")) +
           QStringLiteral("</p>");
  }
  return out;
}

QTextBrowser* ReadOnlyBody(QWidget* parent, const QString& name) {
  auto* body = new QTextBrowser(parent);
  body->setOpenExternalLinks(false);
  body->setAccessibleName(name);
  body->setTextInteractionFlags(Qt::TextBrowserInteraction | Qt::TextSelectableByKeyboard);
  return body;
}

}  // namespace

PolicyDialog::PolicyDialog(AgentConnection& agent, Page page, QWidget* parent)
    : QDialog(parent), agent_(agent), page_(page) {
  const QString title = page == Page::kPolicy ? tr("My policy") : tr("What Ward records about me");
  setWindowTitle(title);
  setAccessibleName(title);
  auto* layout = new QVBoxLayout(this);
  body_ = ReadOnlyBody(this, title);
  body_->setHtml(tr("<p>Loading...</p>"));
  layout->addWidget(body_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  layout->addWidget(buttons);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::accept);
  connect(&agent_, &AgentConnection::policyReceived, this, &PolicyDialog::showPolicy);
  connect(&agent_, &AgentConnection::policyFailed, this, [this](const QString& message) {
    body_->setHtml(QStringLiteral("<p>") + message.toHtmlEscaped() + QStringLiteral("</p>"));
  });
  setMinimumSize(400, 360);
  resize(440, 420);
}

void PolicyDialog::showEvent(QShowEvent* event) {
  QDialog::showEvent(event);
  agent_.requestPolicy();
}

void PolicyDialog::showPolicy(const v1::PolicySummaryResponse& policy) {
  QString html;
  if (page_ == Page::kPolicy) {
    html += tr("<h3>What this laptop allows</h3>");
    html += QStringLiteral("<ul>");
    for (const auto& line : policy.lines()) {
      html += QStringLiteral("<li>") + Html(line) + QStringLiteral("</li>");
    }
    html += QStringLiteral("</ul>");
  } else {
    html += tr("<h3>What Ward records about you</h3>");
    html += QStringLiteral("<ul>");
    for (const auto& record : policy.kept()) {
      html += QStringLiteral("<li><p>") + Html(record.what());
      if (!record.how_long().empty()) {
        html += QStringLiteral("<br>") + tr("How long: %1").arg(Html(record.how_long()));
      }
      if (!record.who_sees().empty()) {
        html += QStringLiteral("<br>") + tr("Who can see it: %1").arg(Html(record.who_sees()));
      }
      html += QStringLiteral("</p></li>");
    }
    if (policy.kept().empty()) {  // an agent older than `kept` sends only the lines
      for (const auto& line : policy.data_inventory()) {
        html += QStringLiteral("<li>") + Html(line) + QStringLiteral("</li>");
      }
    }
    html += QStringLiteral("</ul>");
    html +=
        tr("<p>You can ask for a copy of what is kept about you, or ask for it to be deleted. "
           "Ask the safeguarding lead below. Some safeguarding records must be kept, and they "
           "will tell you why.</p>");
  }
  const auto& c = policy.contacts();
  html += tr("<h3>Who to ask</h3>");
  if (!c.dsl_name().empty()) {
    html += tr("<p>Safeguarding lead: %1").arg(Html(c.dsl_name()));
    if (!c.dsl_email().empty()) {
      html += QStringLiteral("<br>") + Html(c.dsl_email());
    }
    if (!c.dsl_phone().empty()) {
      html += QStringLiteral("<br>") + Html(c.dsl_phone());
    }
    html += QStringLiteral("</p>");
  }
  if (!c.it_helpdesk().empty()) {
    html += tr("<p>IT help: %1</p>").arg(Html(c.it_helpdesk()));
  }
  if (c.dsl_name().empty() && c.it_helpdesk().empty()) {
    html += tr("<p>Ask a member of staff you trust.</p>");
  }
  body_->setHtml(html);
}

AupDialog::AupDialog(AgentConnection& agent, QWidget* parent) : QDialog(parent), agent_(agent) {
  setWindowTitle(tr("Acceptable use agreement"));
  setAccessibleName(tr("Acceptable use agreement"));
  auto* layout = new QVBoxLayout(this);
  body_ = ReadOnlyBody(this, tr("Agreement text"));
  layout->addWidget(body_);
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  status_->setAccessibleName(tr("Message"));
  layout->addWidget(status_);
  auto* buttons = new QDialogButtonBox(this);
  agree_ = buttons->addButton(tr("I &agree"), QDialogButtonBox::AcceptRole);
  agree_->setAccessibleName(tr("I agree"));
  auto* later = buttons->addButton(tr("&Not now"), QDialogButtonBox::RejectRole);
  later->setAccessibleName(tr("Not now"));
  layout->addWidget(buttons);
  connect(agree_, &QPushButton::clicked, this, [this] {
    agree_->setEnabled(false);
    agent_.acceptAup(version_);
  });
  connect(later, &QPushButton::clicked, this, &QDialog::reject);
  connect(&agent_, &AgentConnection::aupAccepted, this, [this](quint32 version) {
    if (version == version_) {
      status_->setText(tr("Thank you. You agreed to version %1.").arg(version));
      agree_->setVisible(false);
    }
  });
  connect(&agent_, &AgentConnection::aupFailed, this, [this](const QString& message) {
    status_->setText(message);
    agree_->setEnabled(true);
  });
  setMinimumSize(400, 360);
  resize(460, 460);
}

void AupDialog::showAgreement(const v1::PolicySummaryResponse& policy, bool pending) {
  const auto& aup = policy.aup();
  version_ = aup.version();
  const std::string& text =
      policy.audience() == v1::AUDIENCE_ADULT ? aup.text_adult() : aup.text_under_18();
  QString html = QStringLiteral("<h3>") + Html(aup.title()) + QStringLiteral("</h3>");
  html += Paragraphs(text);
  body_->setHtml(html);
  agree_->setVisible(pending);
  agree_->setEnabled(pending);
  status_->setText(pending ? tr("Please read this and agree to it.")
                           : tr("You have already agreed to this version."));
}

}  // namespace ward::tray
