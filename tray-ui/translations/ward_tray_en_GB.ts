<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_GB" sourcelanguage="en_GB">
<context>
    <name>Notices</name>
    <message>
        <source>Ward is on and this laptop is protected.</source>
        <translation>Ward is on and this laptop is protected.</translation>
    </message>
    <message>
        <source>Ward is on. It can&apos;t reach school right now, but reports are kept safe and sent later.</source>
        <translation>Ward is on. It can&apos;t reach school right now, but reports are kept safe and sent later.</translation>
    </message>
    <message>
        <source>Ward needs your attention. Open the menu to see why.</source>
        <translation>Ward needs your attention. Open the menu to see why.</translation>
    </message>
    <message>
        <source>Ward isn&apos;t running. Please tell IT.</source>
        <translation>Ward isn&apos;t running. Please tell IT.</translation>
    </message>
    <message>
        <source>Ask %1 if you need it.</source>
        <translation>Ask %1 if you need it.</translation>
    </message>
    <message>
        <source>Ask %1 or %2 if you need it.</source>
        <translation>Ask %1 or %2 if you need it.</translation>
    </message>
    <message>
        <source>A USB device</source>
        <translation>A USB device</translation>
    </message>
    <message>
        <source>%1 would be blocked</source>
        <translation>%1 would be blocked</translation>
    </message>
    <message>
        <source>%1 was blocked</source>
        <translation>%1 was blocked</translation>
    </message>
    <message>
        <source>%1 can&apos;t run on this laptop</source>
        <translation>%1 can&apos;t run on this laptop</translation>
    </message>
    <message>
        <source>Your laptop&apos;s rules have changed</source>
        <translation>Your laptop&apos;s rules have changed</translation>
    </message>
    <message>
        <source>Open &quot;My policy&quot; to see what&apos;s different.</source>
        <translation>Open &quot;My policy&quot; to see what&apos;s different.</translation>
    </message>
    <message>
        <source>Your report was received</source>
        <translation>Your report was received</translation>
    </message>
    <message>
        <source>The safeguarding team has your report %1. Thank you for telling us.</source>
        <translation>The safeguarding team has your report %1. Thank you for telling us.</translation>
    </message>
    <message>
        <source>More: %1</source>
        <translation>More: %1</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>Shows Ward&apos;s protection state and lets you report a concern.</source>
        <translation>Shows Ward&apos;s protection state and lets you report a concern.</translation>
    </message>
    <message>
        <source>The agent&apos;s socket.</source>
        <translation>The agent&apos;s socket.</translation>
    </message>
    <message>
        <source>Use a window, not the tray.</source>
        <translation>Use a window, not the tray.</translation>
    </message>
</context>
<context>
    <name>ward::tray::AgentConnection</name>
    <message>
        <source>Ward isn&apos;t running on this laptop right now, so this can&apos;t be sent. Please tell a member of staff you trust.</source>
        <translation>Ward isn&apos;t running on this laptop right now, so this can&apos;t be sent. Please tell a member of staff you trust.</translation>
    </message>
</context>
<context>
    <name>ward::tray::AupDialog</name>
    <message>
        <source>Acceptable use agreement</source>
        <translation>Acceptable use agreement</translation>
    </message>
    <message>
        <source>Agreement text</source>
        <translation>Agreement text</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>Message</translation>
    </message>
    <message>
        <source>I &amp;agree</source>
        <translation>I &amp;agree</translation>
    </message>
    <message>
        <source>I agree</source>
        <translation>I agree</translation>
    </message>
    <message>
        <source>&amp;Not now</source>
        <translation>&amp;Not now</translation>
    </message>
    <message>
        <source>Not now</source>
        <translation>Not now</translation>
    </message>
    <message>
        <source>Thank you. You agreed to version %1.</source>
        <translation>Thank you. You agreed to version %1.</translation>
    </message>
    <message>
        <source>Please read this and agree to it.</source>
        <translation>Please read this and agree to it.</translation>
    </message>
    <message>
        <source>You have already agreed to this version.</source>
        <translation>You have already agreed to this version.</translation>
    </message>
</context>
<context>
    <name>ward::tray::ConcernDialog</name>
    <message>
        <source>Report a concern</source>
        <translation>Report a concern</translation>
    </message>
    <message>
        <source>Emergency help</source>
        <translation>Emergency help</translation>
    </message>
    <message>
        <source>&lt;b&gt;If you are in danger now, call 999.&lt;/b&gt;</source>
        <translation>&lt;b&gt;If you are in danger now, call 999.&lt;/b&gt;</translation>
    </message>
    <message>
        <source>Childline: call 0800 1111, free, any time. Or chat at childline.org.uk.</source>
        <translation>Childline: call 0800 1111, free, any time. Or chat at childline.org.uk.</translation>
    </message>
    <message>
        <source>If someone online is making you feel unsafe, you can also report it to CEOP at ceop.police.uk.</source>
        <translation>If someone online is making you feel unsafe, you can also report it to CEOP at ceop.police.uk.</translation>
    </message>
    <message>
        <source>Your report is still being sent to the safeguarding team.</source>
        <translation>Your report is still being sent to the safeguarding team.</translation>
    </message>
    <message>
        <source>Tell the safeguarding team about something that worried or upset you. You won&apos;t be in trouble for reporting.</source>
        <translation>Tell the safeguarding team about something that worried or upset you. You won&apos;t be in trouble for reporting.</translation>
    </message>
    <message>
        <source>&amp;What happened?</source>
        <translation>&amp;What happened?</translation>
    </message>
    <message>
        <source>What happened</source>
        <translation>What happened</translation>
    </message>
    <message>
        <source>Choose one (optional)</source>
        <translation>Choose one (optional)</translation>
    </message>
    <message>
        <source>Bullying or harassment</source>
        <translation>Bullying or harassment</translation>
    </message>
    <message>
        <source>Someone online made me uncomfortable</source>
        <translation>Someone online made me uncomfortable</translation>
    </message>
    <message>
        <source>Upsetting or harmful content</source>
        <translation>Upsetting or harmful content</translation>
    </message>
    <message>
        <source>Extremist content</source>
        <translation>Extremist content</translation>
    </message>
    <message>
        <source>My account or laptop may be hacked</source>
        <translation>My account or laptop may be hacked</translation>
    </message>
    <message>
        <source>Something else</source>
        <translation>Something else</translation>
    </message>
    <message>
        <source>&amp;Tell us in your own words</source>
        <translation>&amp;Tell us in your own words</translation>
    </message>
    <message>
        <source>What happened, in your own words</source>
        <translation>What happened, in your own words</translation>
    </message>
    <message>
        <source>What happened, when, and who was involved, if you know.</source>
        <translation>What happened, when, and who was involved, if you know.</translation>
    </message>
    <message>
        <source>Add a &amp;screenshot</source>
        <translation>Add a &amp;screenshot</translation>
    </message>
    <message>
        <source>Add a screenshot</source>
        <translation>Add a screenshot</translation>
    </message>
    <message>
        <source>This window hides for a moment while your screen is captured. You see it before anything is sent.</source>
        <translation>This window hides for a moment while your screen is captured. You see it before anything is sent.</translation>
    </message>
    <message>
        <source>&amp;Remove screenshot</source>
        <translation>&amp;Remove screenshot</translation>
    </message>
    <message>
        <source>Remove screenshot</source>
        <translation>Remove screenshot</translation>
    </message>
    <message>
        <source>Screenshot preview</source>
        <translation>Screenshot preview</translation>
    </message>
    <message>
        <source>&amp;Don&apos;t attach my name</source>
        <translation>&amp;Don&apos;t attach my name</translation>
    </message>
    <message>
        <source>Don&apos;t attach my name</source>
        <translation>Don&apos;t attach my name</translation>
    </message>
    <message>
        <source>Staff will still see which laptop it came from and when, so they may still be able to work out who you are.</source>
        <translation>Staff will still see which laptop it came from and when, so they may still be able to work out who you are.</translation>
    </message>
    <message>
        <source>&amp;I&apos;m in danger now</source>
        <translation>&amp;I&apos;m in danger now</translation>
    </message>
    <message>
        <source>I&apos;m in danger now</source>
        <translation>I&apos;m in danger now</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>Message</translation>
    </message>
    <message>
        <source>Se&amp;nd</source>
        <translation>Se&amp;nd</translation>
    </message>
    <message>
        <source>Send report</source>
        <translation>Send report</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>Your reference</source>
        <translation>Your reference</translation>
    </message>
    <message>
        <source>Waiting for the safeguarding team to receive it...</source>
        <translation>Waiting for the safeguarding team to receive it...</translation>
    </message>
    <message>
        <source>Delivery</source>
        <translation>Delivery</translation>
    </message>
    <message>
        <source>The screenshot didn&apos;t work. You can still send your report without it.</source>
        <translation>The screenshot didn&apos;t work. You can still send your report without it.</translation>
    </message>
    <message>
        <source>Take it &amp;again</source>
        <translation>Take it &amp;again</translation>
    </message>
    <message>
        <source>Please tell us what happened first.</source>
        <translation>Please tell us what happened first.</translation>
    </message>
    <message>
        <source>Sending...</source>
        <translation>Sending...</translation>
    </message>
    <message>
        <source>&lt;b&gt;Thank you for telling us.&lt;/b&gt;&lt;br&gt;Your report is saved on this laptop and is on its way. Your reference is &lt;b&gt;%1&lt;/b&gt;. You can quote it if you talk to someone about this.</source>
        <translation>&lt;b&gt;Thank you for telling us.&lt;/b&gt;&lt;br&gt;Your report is saved on this laptop and is on its way. Your reference is &lt;b&gt;%1&lt;/b&gt;. You can quote it if you talk to someone about this.</translation>
    </message>
    <message>
        <source>Received by the safeguarding team.</source>
        <translation>Received by the safeguarding team.</translation>
    </message>
</context>
<context>
    <name>ward::tray::PolicyDialog</name>
    <message>
        <source>My policy</source>
        <translation>My policy</translation>
    </message>
    <message>
        <source>What Ward records about me</source>
        <translation>What Ward records about me</translation>
    </message>
    <message>
        <source>&lt;p&gt;Loading...&lt;/p&gt;</source>
        <translation>&lt;p&gt;Loading...&lt;/p&gt;</translation>
    </message>
    <message>
        <source>&lt;h3&gt;What this laptop allows&lt;/h3&gt;</source>
        <translation>&lt;h3&gt;What this laptop allows&lt;/h3&gt;</translation>
    </message>
    <message>
        <source>&lt;h3&gt;What Ward records about you&lt;/h3&gt;</source>
        <translation>&lt;h3&gt;What Ward records about you&lt;/h3&gt;</translation>
    </message>
    <message>
        <source>How long: %1</source>
        <translation>How long: %1</translation>
    </message>
    <message>
        <source>Who can see it: %1</source>
        <translation>Who can see it: %1</translation>
    </message>
    <message>
        <source>&lt;p&gt;You can ask for a copy of what is kept about you, or ask for it to be deleted. Ask the safeguarding lead below. Some safeguarding records must be kept, and they will tell you why.&lt;/p&gt;</source>
        <translation>&lt;p&gt;You can ask for a copy of what is kept about you, or ask for it to be deleted. Ask the safeguarding lead below. Some safeguarding records must be kept, and they will tell you why.&lt;/p&gt;</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Who to ask&lt;/h3&gt;</source>
        <translation>&lt;h3&gt;Who to ask&lt;/h3&gt;</translation>
    </message>
    <message>
        <source>&lt;p&gt;Safeguarding lead: %1</source>
        <translation>&lt;p&gt;Safeguarding lead: %1</translation>
    </message>
    <message>
        <source>&lt;p&gt;IT help: %1&lt;/p&gt;</source>
        <translation>&lt;p&gt;IT help: %1&lt;/p&gt;</translation>
    </message>
    <message>
        <source>&lt;p&gt;Ask a member of staff you trust.&lt;/p&gt;</source>
        <translation>&lt;p&gt;Ask a member of staff you trust.&lt;/p&gt;</translation>
    </message>
</context>
<context>
    <name>ward::tray::TrayController</name>
    <message>
        <source>Ward</source>
        <translation>Ward</translation>
    </message>
    <message>
        <source>&amp;My policy</source>
        <translation>&amp;My policy</translation>
    </message>
    <message>
        <source>&amp;Report a concern</source>
        <translation>&amp;Report a concern</translation>
    </message>
    <message>
        <source>&amp;Acceptable use agreement</source>
        <translation>&amp;Acceptable use agreement</translation>
    </message>
    <message>
        <source>&amp;What Ward records about me</source>
        <translation>&amp;What Ward records about me</translation>
    </message>
    <message>
        <source>A&amp;bout Ward</source>
        <translation>A&amp;bout Ward</translation>
    </message>
    <message>
        <source>Protection status</source>
        <translation>Protection status</translation>
    </message>
    <message>
        <source>Latest message</source>
        <translation>Latest message</translation>
    </message>
    <message>
        <source>About Ward</source>
        <translation>About Ward</translation>
    </message>
    <message>
        <source>&lt;p&gt;&lt;b&gt;Ward&lt;/b&gt; keeps this laptop safe to use for your course.&lt;/p&gt;&lt;p&gt;It blocks some USB devices and programs and keeps a short record of that. &quot;What Ward records about me&quot; lists everything it keeps. It does not read your messages or watch your screen.&lt;/p&gt;&lt;p&gt;&quot;Report a concern&quot; sends a report to the safeguarding team, who are there to help.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Ward&lt;/b&gt; keeps this laptop safe to use for your course.&lt;/p&gt;&lt;p&gt;It blocks some USB devices and programs and keeps a short record of that. &quot;What Ward records about me&quot; lists everything it keeps. It does not read your messages or watch your screen.&lt;/p&gt;&lt;p&gt;&quot;Report a concern&quot; sends a report to the safeguarding team, who are there to help.&lt;/p&gt;</translation>
    </message>
</context>
</TS>
