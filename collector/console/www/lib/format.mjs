// SPDX-License-Identifier: Apache-2.0
// @ts-check
// Words and dates as the console shows them (UK English; dates like "Mon 7 Dec 14:05").

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** @param {number} n */
function two(n) {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * "Mon 7 Dec 14:05" in the browser's time zone; the year is added when it is not this year.
 * @param {number} ms milliseconds since 1970
 * @param {Date} [now]
 */
export function formatTime(ms, now = new Date()) {
  if (!ms) {
    return 'never';
  }
  const d = new Date(ms);
  const year = d.getFullYear() === now.getFullYear() ? '' : ` ${d.getFullYear()}`;
  return `${DAYS[d.getDay()]} ${d.getDate()} ${MONTHS[d.getMonth()]}${year} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

/**
 * "3 days ago", "5 minutes ago": how long since.
 * @param {number} ms
 * @param {number} [now]
 */
export function formatAge(ms, now = Date.now()) {
  if (!ms) {
    return 'never';
  }
  const minutes = Math.max(0, Math.round((now - ms) / 60000));
  if (minutes < 1) {
    return 'just now';
  }
  if (minutes < 60) {
    return minutes === 1 ? '1 minute ago' : `${minutes} minutes ago`;
  }
  const hours = Math.round(minutes / 60);
  if (hours < 48) {
    return hours === 1 ? '1 hour ago' : `${hours} hours ago`;
  }
  return `${Math.round(hours / 24)} days ago`;
}

/** The categories of event.proto's ConcernCategory, as the learner chose them. */
const CATEGORIES = [
  'Not chosen',
  'Bullying or harassment',
  'Someone online made me uncomfortable',
  'Upsetting or harmful content',
  'Extremist content',
  'My account or laptop may be hacked',
  'Something else',
];

/** @param {number | undefined} category */
export function categoryName(category) {
  return CATEGORIES[category ?? 0] ?? 'Something else';
}

/** @type {Record<string, string>} */
const STATUSES = {
  new: 'New',
  'in-progress': 'In progress',
  referred: 'Referred',
  closed: 'Closed',
};
export const STATUS_VALUES = /** @type {const} */ (['new', 'in-progress', 'referred', 'closed']);

/** @param {string} status */
export function statusName(status) {
  return STATUSES[status] ?? status;
}

/** @type {Record<string, string>} */
const AUDIT_ACTIONS = {
  'concern.list': 'Saw it in the inbox',
  'concern.list.redacted': 'Saw that it exists (no contents)',
  'concern.read': 'Opened it',
  'concern.read.redacted': 'Looked it up (no contents)',
  'concern.read.event': 'Read it in the event log',
  'concern.log': 'Read its incident log',
  'concern.status': 'Changed its status',
  'concern.note': 'Added a note',
  'concern.parent-contacted': 'Recorded that a parent or guardian was contacted',
  'concern.referred-external': 'Recorded a referral to an external agency',
};

/** @param {string} action */
export function auditActionName(action) {
  return AUDIT_ACTIONS[action] ?? action;
}

/** @type {Record<string, string>} */
const LOG_KINDS = {
  note: 'Note',
  status: 'Status',
  'parent-contacted': 'Parent or guardian contacted',
  'referred-external': 'Referred',
};

/** @param {string} kind */
export function logKindName(kind) {
  return LOG_KINDS[kind] ?? kind;
}

/**
 * "not working: usb (no /sys/bus/usb)" from the heartbeat's "usb: no /sys/bus/usb".
 * @param {string} item
 */
export function degradedText(item) {
  const colon = item.indexOf(': ');
  return colon < 0 ? `not working: ${item}` : `not working: ${item.slice(0, colon)} (${item.slice(colon + 2)})`;
}

/** @type {Record<string, string>} */
const DECISIONS = {
  DECISION_ALLOW: 'allowed',
  DECISION_BLOCK: 'blocked',
  DECISION_WOULD_BLOCK: 'would be blocked (monitor mode)',
};

/** @type {Record<string, string>} */
const AGENT_KINDS = {
  KIND_STARTED: 'Ward started',
  KIND_STOPPING: 'Ward stopping',
  KIND_POLICY_APPLIED: 'Policy applied',
  KIND_POLICY_REJECTED: 'A policy was refused; the old one stays',
  KIND_TAMPER: 'Tampering detected',
  KIND_EVENTS_EVICTED: 'The laptop’s event store was full; old events were dropped',
  KIND_STORE_RESET: 'The laptop’s event store was reset',
  KIND_DEGRADED: 'Part of Ward is not working',
  KIND_FAILURE: 'A failure rule was applied',
  KIND_PACKAGE_FILE_MODIFIED: 'An installed program’s file was changed',
};

/**
 * One line for an event of a device's history. A concern says only that one was reported:
 * what it says is in the inbox, for the safeguarding team.
 * @param {string} kind the event's kind ("usb", "exec", ...)
 * @param {Record<string, any>} event protobuf JSON of ward.v1.Event
 * @returns {{title: string, detail: string, serious: boolean}}
 */
export function describeEvent(kind, event) {
  const b = event[kind] ?? {};
  switch (kind) {
    case 'usb': {
      const d = b.device ?? {};
      const what = d.name || d.device_id || 'a USB device';
      if (b.kind === 'KIND_DECIDED') {
        const decision = DECISIONS[b.decision] ?? 'decided';
        return { title: `USB: ${what} ${decision}`, detail: d.device_id ?? '', serious: b.decision === 'DECISION_BLOCK' };
      }
      const verb = b.kind === 'KIND_DISCONNECTED' ? 'unplugged' : 'plugged in';
      return { title: `USB: ${what} ${verb}`, detail: d.device_id ?? '', serious: false };
    }
    case 'exec': {
      const decision = DECISIONS[b.decision] ?? 'decided';
      return { title: `Program ${decision}`, detail: b.path ?? '', serious: b.decision === 'DECISION_BLOCK' };
    }
    case 'settings': {
      if (b.kind === 'KIND_DRIFT_REVERTED') {
        return { title: 'A locked setting was changed and put back', detail: b.setting ?? '', serious: true };
      }
      if (b.kind === 'KIND_APPLY_FAILED') {
        return { title: 'A setting could not be applied', detail: `${b.setting ?? ''} ${b.detail ?? ''}`.trim(), serious: true };
      }
      return { title: 'Settings applied', detail: b.setting ?? '', serious: false };
    }
    case 'agent':
      return {
        title: AGENT_KINDS[b.kind] ?? 'Ward',
        detail: b.detail ?? '',
        serious: b.kind === 'KIND_TAMPER' || b.kind === 'KIND_POLICY_REJECTED',
      };
    case 'aup':
      return { title: 'Acceptable use agreement accepted', detail: `version ${b.aup_version ?? '?'}`, serious: false };
    case 'concern':
      return { title: 'A concern was reported', detail: 'Only the safeguarding team can read it.', serious: true };
    default:
      return { title: kind, detail: '', serious: false };
  }
}

/**
 * The first words of a text, for a list.
 * @param {string} text
 * @param {number} length
 */
export function firstWords(text, length) {
  if (text.length <= length) {
    return text;
  }
  const cut = text.lastIndexOf(' ', length);
  return `${text.slice(0, cut > length / 2 ? cut : length)}…`;
}

/**
 * A sentence from the collector's lower-case message.
 * @param {string} message
 */
export function sentence(message) {
  return message ? message.charAt(0).toUpperCase() + message.slice(1) : message;
}
