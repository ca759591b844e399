// SPDX-License-Identifier: Apache-2.0
#include "ward/tray/tray_state.h"

#include <QCoreApplication>
#include <QPainter>
#include <QPainterPath>
#include <QPixmap>

namespace ward::tray {
namespace {

// The translation context of the words below (lupdate reads Notices::tr calls).
class Notices {
  Q_DECLARE_TR_FUNCTIONS(Notices)
};

QPixmap DrawShield(TrayState state, int size) {
  QPixmap pixmap(size, size);
  pixmap.fill(Qt::transparent);
  QPainter p(&pixmap);
  p.setRenderHint(QPainter::Antialiasing);
  const double s = size;
  QPainterPath shield;
  shield.moveTo(s * 0.5, s * 0.06);
  shield.lineTo(s * 0.88, s * 0.2);
  shield.cubicTo(s * 0.88, s * 0.6, s * 0.7, s * 0.82, s * 0.5, s * 0.95);
  shield.cubicTo(s * 0.3, s * 0.82, s * 0.12, s * 0.6, s * 0.12, s * 0.2);
  shield.closeSubpath();
  QColor fill;
  switch (state) {
    case TrayState::kProtected:
      fill = QColor(0x1b, 0x7f, 0x3b);
      break;
    case TrayState::kOffline:
    case TrayState::kNotRunning:
      fill = QColor(0x6b, 0x6b, 0x6b);
      break;
    case TrayState::kNeedsAttention:
      fill = QColor(0xc7, 0x7c, 0x02);
      break;
  }
  p.setPen(QPen(fill.darker(140), s * 0.04));
  p.setBrush(fill);
  p.drawPath(shield);
  QPen mark(Qt::white, s * 0.1, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin);
  p.setPen(mark);
  p.setBrush(Qt::NoBrush);
  switch (state) {
    case TrayState::kProtected: {
      QPainterPath tick;
      tick.moveTo(s * 0.32, s * 0.5);
      tick.lineTo(s * 0.45, s * 0.64);
      tick.lineTo(s * 0.68, s * 0.36);
      p.drawPath(tick);
      break;
    }
    case TrayState::kOffline:
    case TrayState::kNotRunning:
      p.drawLine(QPointF(s * 0.33, s * 0.5), QPointF(s * 0.67, s * 0.5));
      break;
    case TrayState::kNeedsAttention:
      p.drawLine(QPointF(s * 0.5, s * 0.28), QPointF(s * 0.5, s * 0.56));
      p.drawPoint(QPointF(s * 0.5, s * 0.72));
      break;
  }
  return pixmap;
}

}  // namespace

TrayState StateFromStatus(const v1::StatusResponse& status) {
  switch (status.state()) {
    case v1::StatusResponse::STATE_PROTECTED:
      return status.aup_pending() ? TrayState::kNeedsAttention : TrayState::kProtected;
    case v1::StatusResponse::STATE_OFFLINE:
      return TrayState::kOffline;
    default:
      return TrayState::kNeedsAttention;
  }
}

QIcon StateIcon(TrayState state) {
  QIcon icon;
  for (int size : {16, 22, 24, 32, 48, 64}) {
    icon.addPixmap(DrawShield(state, size));
  }
  return icon;
}

QString StateText(TrayState state) {
  switch (state) {
    case TrayState::kProtected:
      return Notices::tr("Ward is on and this laptop is protected.");
    case TrayState::kOffline:
      return Notices::tr(
          "Ward is on. It can't reach school right now, but reports are kept safe and "
          "sent later.");
    case TrayState::kNeedsAttention:
      return Notices::tr("Ward needs your attention. Open the menu to see why.");
    case TrayState::kNotRunning:
      return Notices::tr("Ward isn't running. Please tell IT.");
  }
  return {};
}

QString WhoToAsk(const v1::Contacts& contacts) {
  QStringList people;
  if (!contacts.dsl_name().empty()) {
    QString dsl = QString::fromStdString(contacts.dsl_name());
    if (!contacts.dsl_email().empty()) {
      dsl +=
          QStringLiteral(" (") + QString::fromStdString(contacts.dsl_email()) + QStringLiteral(")");
    }
    people << dsl;
  }
  if (!contacts.it_helpdesk().empty()) {
    people << QString::fromStdString(contacts.it_helpdesk());
  }
  if (people.isEmpty()) {
    return {};
  }
  if (people.size() == 1) {
    return Notices::tr("Ask %1 if you need it.").arg(people[0]);
  }
  return Notices::tr("Ask %1 or %2 if you need it.").arg(people[0], people[1]);
}

NoticeText FormatNotice(const v1::Notice& notice, const v1::Contacts& contacts) {
  NoticeText out;
  QString message;
  QString url;
  switch (notice.notice_case()) {
    case v1::Notice::kUsbBlocked: {
      const auto& usb = notice.usb_blocked();
      const QString device = usb.device_name().empty() ? Notices::tr("A USB device")
                                                       : QString::fromStdString(usb.device_name());
      out.title = usb.monitor_only() ? Notices::tr("%1 would be blocked").arg(device)
                                     : Notices::tr("%1 was blocked").arg(device);
      message = QString::fromStdString(usb.message());
      url = QString::fromStdString(usb.url());
      break;
    }
    case v1::Notice::kProgramBlocked: {
      const auto& program = notice.program_blocked();
      const QString name = QString::fromStdString(program.program());
      out.title = program.monitor_only() ? Notices::tr("%1 would be blocked").arg(name)
                                         : Notices::tr("%1 can't run on this laptop").arg(name);
      message = QString::fromStdString(program.message());
      url = QString::fromStdString(program.url());
      break;
    }
    case v1::Notice::kPolicyChanged:
      out.title = Notices::tr("Your laptop's rules have changed");
      out.body = Notices::tr("Open \"My policy\" to see what's different.");
      return out;
    case v1::Notice::kConcernReceived:
      out.title = Notices::tr("Your report was received");
      out.body = Notices::tr("The safeguarding team has your report %1. Thank you for telling us.")
                     .arg(QString::fromStdString(notice.concern_received().reference()));
      return out;
    case v1::Notice::NOTICE_NOT_SET:
      return out;
  }
  QStringList parts;
  if (!message.isEmpty()) {
    parts << message;
  }
  if (!url.isEmpty()) {
    parts << Notices::tr("More: %1").arg(url);
  }
  if (const QString ask = WhoToAsk(contacts); !ask.isEmpty()) {
    parts << ask;
  }
  out.body = parts.join(QLatin1Char('\n'));
  return out;
}

}  // namespace ward::tray
