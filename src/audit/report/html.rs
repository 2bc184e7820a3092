//! The HTML renderings: one self-contained page each, readable in any browser years from now
//! without a network — inline CSS, an inline SVG chart, no script at all (a
//! Content-Security-Policy forbids scripts and fetches, should a name ever smuggle one in).
//! Every name is escaped for the terminal first ([`printable`]: control and bidi characters
//! become `\u{…}`) and then for HTML, so a bag called `<script>…` is shown, never run.

use std::fmt::Write;

use crate::audit::model::{BagAudit, DayTotals, HistoryRow, Outcome, ReportData};
use crate::paths::printable;
use crate::verdict::human_bytes;

use super::timestamp;

/// Text made safe for HTML element content and quoted attribute values.
fn esc(text: &str) -> String {
    let text = printable(text);
    let mut out = String::with_capacity(text.len() + 16);
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

const STYLE: &str = "\
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em}
table{border-collapse:collapse;width:100%;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}
td.path,td.bag{font-family:ui-monospace,monospace;word-break:break-all}
.passed{color:#1a7f37}.failed,.unreadable,.interrupted{color:#c62828;font-weight:bold}
dl.totals{display:flex;flex-wrap:wrap;gap:1em 3em}dl.totals dt{color:#555}
dl.totals dd{margin:0;font-size:1.5em;font-weight:bold}
svg{max-width:100%;height:auto}svg text{font-size:11px;fill:#444}
svg .bar{fill:#4a78b5}svg rect.fail,svg text.fail{fill:#c62828}svg .axis{stroke:#888}
";

/// The page's head and `<body>`, with its `<h1>`.
fn open(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" \
         content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"qoima\">\n<title>{t}</title>\n\
         <style>\n{STYLE}</style>\n</head>\n<body>\n<h1>{t}</h1>\n",
        t = esc(title)
    )
}

fn close(out: &mut String) {
    out.push_str("</body>\n</html>\n");
}

/// A `<td>` with a right-aligned number.
fn num(n: u64) -> String {
    format!("<td class=\"n\">{n}</td>")
}

/// A `<td>` with bytes in human units, the exact count in its tooltip.
fn bytes(n: u64) -> String {
    format!(
        "<td class=\"n\" title=\"{n} bytes\">{}</td>",
        human_bytes(n)
    )
}

fn outcome(value: Outcome) -> String {
    format!("<td class=\"{0}\">{0}</td>", value.as_str())
}

/// One row per finding of `audit` (or its error, or a single row saying there is none), each
/// starting with `lead` (cells spanning every row of the audit).
fn finding_rows(out: &mut String, lead: &str, audit: &BagAudit) {
    let mut cells: Vec<[String; 4]> = Vec::new();
    if let Some(error) = &audit.error {
        cells.push(["-".into(), "-".into(), "-".into(), esc(error)]);
    }
    for finding in &audit.findings {
        cells.push([
            esc(finding.class.map_or("-", |c| c.as_str())),
            esc(finding.code.as_deref().unwrap_or("-")),
            esc(&finding.path),
            esc(&finding.detail),
        ]);
    }
    if cells.is_empty() {
        cells.push([
            "-".into(),
            "-".into(),
            "-".into(),
            "no finding recorded".into(),
        ]);
    }
    let span = cells.len();
    for (index, [class, code, path, detail]) in cells.iter().enumerate() {
        out.push_str("<tr>");
        if index == 0 {
            out.push_str(&lead.replace("<td", &format!("<td rowspan=\"{span}\"")));
        }
        let _ = writeln!(
            out,
            "<td>{class}</td><td>{code}</td><td class=\"path\">{path}</td><td>{detail}</td></tr>"
        );
    }
}

/// The period report: totals, the chart, failing bags with their findings, runs.
pub(super) fn report(data: &ReportData) -> String {
    let mut out = open("Fixity audit report");
    out.push_str("<p class=\"period\">");
    match &data.since {
        Some(time) => {
            let _ = write!(out, "Period: since <time>{}</time>", timestamp(time));
        }
        None => out.push_str("Period: since the register began"),
    }
    if let Some(time) = &data.generated {
        let _ = write!(out, "; generated <time>{}</time>", timestamp(time));
    }
    out.push_str(".</p>\n");

    let _ = writeln!(
        out,
        "<dl class=\"totals\">\n<div><dt>Audits</dt><dd>{}</dd></div>\n\
         <div><dt>Bags</dt><dd>{}</dd></div>\n\
         <div><dt>Verified</dt><dd title=\"{} bytes\">{}</dd></div>\n\
         <div><dt>Failures</dt><dd class=\"{}\">{}</dd></div>\n</dl>",
        data.audits,
        data.bags,
        data.bytes,
        human_bytes(data.bytes),
        if data.failures > 0 {
            "failed"
        } else {
            "passed"
        },
        data.failures
    );

    out.push_str("<h2>Bytes verified and failures per day (UTC)</h2>\n");
    chart(&mut out, &data.days);

    let _ = writeln!(out, "<h2>Failing bags ({})</h2>", data.failing.len());
    if data.failing.is_empty() {
        out.push_str("<p>No bag's latest audit in the period failed.</p>\n");
    } else {
        out.push_str(
            "<table>\n<thead><tr><th>Bag</th><th>Audited</th><th>Outcome</th><th>Verdict</th>\
             <th>Class</th><th>Code</th><th>Path</th><th>Detail</th></tr></thead>\n<tbody>\n",
        );
        for audit in &data.failing {
            let mut verdict = esc(&audit.verdict);
            if audit.manifest_rewritten {
                verdict.push_str("; manifest re-written");
            }
            let lead = format!(
                "<td class=\"bag\">{}</td><td><time>{}</time></td>{}<td>{}</td>",
                esc(&audit.bag),
                timestamp(&audit.started),
                outcome(audit.outcome),
                verdict
            );
            finding_rows(&mut out, &lead, audit);
        }
        out.push_str("</tbody>\n</table>\n");
    }

    let _ = writeln!(out, "<h2>Runs ({})</h2>", data.runs.len());
    out.push_str(
        "<table>\n<thead><tr><th>Run</th><th>Started</th><th>Ended</th><th>Outcome</th>\
         <th>Bags</th><th>Verified</th><th>Failed</th><th>User</th><th>Host</th>\
         <th>qoima</th></tr></thead>\n<tbody>\n",
    );
    for run in &data.runs {
        let ended = run.ended.as_ref().map_or_else(|| "-".into(), timestamp);
        let _ = writeln!(
            out,
            "<tr><td class=\"n\">{}</td><td><time>{}</time></td><td>{}</td>\
             <td class=\"{o}\">{o}</td>{}{}{}<td>{}</td><td>{}</td><td>{}</td></tr>",
            run.id,
            timestamp(&run.started),
            ended,
            num(run.bags),
            bytes(run.bytes),
            num(run.failed),
            esc(&run.user),
            esc(&run.host),
            esc(&run.qoima_version),
            o = esc(&run.outcome),
        );
    }
    out.push_str("</tbody>\n</table>\n");
    close(&mut out);
    out
}

/// The chart's geometry, in SVG user units.
const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 50.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 50.0;

/// An inline SVG: one `class="bar"` rect per day (bytes verified, left scale) and one
/// `class="fail"` rect per day with failures (failed or unreadable audits, right scale), each
/// with a `<title>` tooltip, and a legend.
fn chart(out: &mut String, days: &[DayTotals]) {
    if days.is_empty() {
        out.push_str("<p>No audits in the period.</p>\n");
        return;
    }
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let base = TOP + plot_h;
    let max_bytes = days.iter().map(|d| d.bytes).max().unwrap_or(0).max(1) as f64;
    let max_fail = days.iter().map(|d| d.failures).max().unwrap_or(0);
    let slot = plot_w / days.len() as f64;
    // A day's slot: the blue bar (bytes), then, touching it, the narrow red one (failures).
    let bar = slot * 0.6;
    let fail_bar = slot * 0.2;
    // Label at most about 12 days, so that the labels never overlap.
    let every = days.len().div_ceil(12);
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         width=\"{WIDTH}\" height=\"{HEIGHT}\" role=\"img\" \
         aria-label=\"Bytes verified (blue bars, left scale) and failed audits (red bars, \
         right scale) per day\">"
    );
    let _ = writeln!(
        out,
        "<line class=\"axis\" stroke=\"#888\" x1=\"{LEFT}\" y1=\"{base}\" x2=\"{x2}\" y2=\"{base}\"/>\n\
         <line class=\"axis\" stroke=\"#888\" x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{base}\"/>\n\
         <text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{max}</text>\n\
         <text x=\"{lx}\" y=\"{base}\" text-anchor=\"end\">0</text>",
        x2 = WIDTH - RIGHT,
        lx = LEFT - 6.0,
        ty = TOP + 4.0,
        max = human_bytes(max_bytes as u64),
    );
    if max_fail > 0 {
        let _ = writeln!(
            out,
            "<line class=\"axis\" stroke=\"#888\" x1=\"{x}\" y1=\"{TOP}\" x2=\"{x}\" y2=\"{base}\"/>\n\
             <text class=\"fail\" fill=\"#c62828\" x=\"{tx}\" y=\"{ty}\">{max_fail} failed</text>\n\
             <text class=\"fail\" fill=\"#c62828\" x=\"{tx}\" y=\"{base}\">0</text>",
            x = WIDTH - RIGHT,
            tx = WIDTH - RIGHT + 6.0,
            ty = TOP + 4.0,
        );
    }
    for (index, totals) in days.iter().enumerate() {
        let bar_x = LEFT + slot * index as f64 + (slot - bar - fail_bar) / 2.0;
        let bar_height = plot_h * totals.bytes as f64 / max_bytes;
        let day = esc(&totals.day);
        let tip = format!(
            "{day}: {}, {} audits, {} failures",
            human_bytes(totals.bytes),
            totals.audits,
            totals.failures
        );
        let _ = writeln!(
            out,
            "<rect class=\"bar\" fill=\"#4a78b5\" x=\"{bar_x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{bar_height:.1}\">\
             <title>{tip}</title></rect>",
            base - bar_height
        );
        if totals.failures > 0 {
            let fail_height = plot_h * totals.failures as f64 / max_fail as f64;
            let _ = writeln!(
                out,
                "<rect class=\"fail\" fill=\"#c62828\" x=\"{:.1}\" y=\"{:.1}\" width=\"{fail_bar:.1}\" \
                 height=\"{fail_height:.1}\"><title>{tip}</title></rect>",
                bar_x + bar,
                base - fail_height
            );
        }
        if index % every == 0 {
            let _ = writeln!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{day}</text>",
                bar_x + (bar + fail_bar) / 2.0,
                base + 16.0
            );
        }
    }
    let _ = writeln!(
        out,
        "<rect class=\"bar\" fill=\"#4a78b5\" x=\"{LEFT}\" y=\"{y}\" width=\"10\" height=\"10\"/>\
         <text x=\"{tx}\" y=\"{ty}\">bytes verified</text>\n\
         <rect class=\"fail\" fill=\"#c62828\" x=\"{cx}\" y=\"{y}\" width=\"10\" height=\"10\"/>\
         <text x=\"{tx2}\" y=\"{ty}\">failed or unreadable audits</text>\n</svg>",
        y = HEIGHT - 20.0,
        tx = LEFT + 14.0,
        ty = HEIGHT - 11.0,
        cx = LEFT + 130.0,
        tx2 = LEFT + 144.0,
    );
}

/// A bag's history as a page: one table row per audit, then the findings of those that did
/// not pass.
pub(super) fn history(bag: &str, rows: &[HistoryRow]) -> String {
    let mut out = open(&format!("History of {bag}"));
    if rows.is_empty() {
        out.push_str("<p>Never audited.</p>\n");
        close(&mut out);
        return out;
    }
    let _ = writeln!(out, "<h2>Audits ({})</h2>", rows.len());
    out.push_str(
        "<table>\n<thead><tr><th>Started</th><th>Run</th><th>Outcome</th><th>Verdict</th>\
         <th>Files</th><th>Verified</th><th>Confirmed</th><th>Changed</th><th>Missing</th>\
         <th>New</th><th>Moved</th><th>Notes</th></tr></thead>\n<tbody>\n",
    );
    for row in rows {
        let audit = &row.audit;
        let counts = &audit.counts;
        let mut notes = Vec::new();
        if audit.baseline_recorded {
            notes.push("baseline recorded");
        }
        if audit.manifest_rewritten {
            notes.push("manifest re-written");
        }
        let _ = writeln!(
            out,
            "<tr><td><time>{}</time></td><td class=\"n\">{}</td>{}<td>{}</td>{}{}{}{}{}{}{}\
             <td>{}</td></tr>",
            timestamp(&audit.started),
            row.run,
            outcome(audit.outcome),
            esc(&audit.verdict),
            num(audit.files),
            bytes(audit.bytes),
            num(counts.confirmed),
            num(counts.changed),
            num(counts.missing),
            num(counts.new),
            num(counts.moved),
            notes.join("; ")
        );
    }
    out.push_str("</tbody>\n</table>\n");
    let failed: Vec<&HistoryRow> = rows
        .iter()
        .filter(|row| row.audit.outcome != Outcome::Passed)
        .collect();
    if !failed.is_empty() {
        out.push_str(
            "<h2>Findings of the audits that did not pass</h2>\n<table>\n<thead><tr>\
             <th>Started</th><th>Class</th><th>Code</th><th>Path</th><th>Detail</th></tr>\
             </thead>\n<tbody>\n",
        );
        for row in failed {
            let lead = format!("<td><time>{}</time></td>", timestamp(&row.audit.started));
            finding_rows(&mut out, &lead, &row.audit);
        }
        out.push_str("</tbody>\n</table>\n");
    }
    close(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;

    const ESCAPED_BAG: &str = "/archive/&lt;script&gt;alert(1)&lt;/script&gt; &amp; \
                               &quot;Қойма&quot; &#39;архив&#39; \\u{7}bell\\u{202e}gpj.exe";

    /// Every tag opened is closed, in order (void and self-closed elements aside).
    fn assert_balanced(html: &str) {
        let mut stack: Vec<String> = Vec::new();
        let void = ["meta", "!DOCTYPE"];
        for piece in html.split('<').skip(1) {
            let tag = &piece[..piece.find('>').expect("every tag ends")];
            if tag.ends_with('/') {
                continue;
            }
            let name = tag.split([' ', '\n']).next().unwrap();
            if let Some(closing) = name.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(closing), "in {html}");
            } else if !void.contains(&name) {
                stack.push(name.to_string());
            }
        }
        assert!(stack.is_empty(), "unclosed: {stack:?}");
    }

    #[test]
    fn report_page_is_self_contained_and_escaped() {
        let data = fixtures::report();
        let html = report(&data);
        assert!(html.starts_with("<!DOCTYPE html>\n"));
        assert!(
            !html.to_lowercase().contains("<script"),
            "no script tag at all"
        );
        assert!(html.contains(ESCAPED_BAG), "the bag path, as text");
        assert!(!html.contains('\u{7}') && !html.contains('\u{1b}') && !html.contains('\u{0}'));
        for remote in ["http://", "https://", "src=", "href=", "@import", "url("] {
            let outside_svg_ns = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
            assert!(
                !outside_svg_ns.contains(remote),
                "nothing fetched: {remote}"
            );
        }
        assert_balanced(&html);
        // Title, period, totals.
        assert!(html.contains("<title>Fixity audit report</title>"));
        assert!(html.contains("since <time>2025-01-01T00:00:00Z</time>"));
        assert!(html.contains("<dd>10</dd>") && html.contains("<dd>4</dd>"));
        assert!(html.contains("title=\"7500000000 bytes\">7.5 GB</dd>"));
        assert!(html.contains("<dd class=\"failed\">3</dd>"));
        // The chart: one bar per day, one red bar per day with failures.
        assert_eq!(html.matches("<svg").count(), 1);
        let svg = &html[html.find("<svg").unwrap()..html.find("</svg>").unwrap()];
        let bars = svg.matches("<rect class=\"bar\" ").count() - 1; // minus the legend's
        assert_eq!(bars, data.days.len());
        assert_eq!(svg.matches("<rect class=\"fail\" ").count() - 1, 2);
        assert!(svg.contains("<title>2025-01-08: 3.5 GB, 4 audits, 1 failures</title>"));
        // Failing bags with their findings, and the runs.
        assert!(html.contains("<td rowspan=\"3\" class=\"bag\">"));
        assert!(html.contains("data/фото &lt;1&gt; &amp; &quot;2&quot;\\u{1b}[31m.jpg"));
        assert!(html.contains("<td>BAG-036</td>") && html.contains("<td>moved</td>"));
        assert!(html.contains("sha512 was &lt;aa…&gt; &amp; is &quot;bb…&quot;"));
        assert!(html.contains("<td class=\"interrupted\">interrupted</td>"));
        assert!(html.contains("архивист &lt;&amp;&gt;"));
    }

    #[test]
    fn report_page_without_data() {
        let html = report(&ReportData::default());
        assert_balanced(&html);
        assert!(html.contains("since the register began"));
        assert!(html.contains("No audits in the period."));
        assert!(!html.contains("<svg"));
    }

    #[test]
    fn many_days_make_one_bar_each() {
        let mut data = ReportData::default();
        for i in 0..365u64 {
            data.days.push(DayTotals {
                day: format!("day-{i}"),
                bytes: i * 1_000_000,
                audits: 1,
                failures: u64::from(i % 100 == 0),
            });
        }
        let html = report(&data);
        assert_balanced(&html);
        assert_eq!(html.matches("<rect class=\"bar\" ").count() - 1, 365);
        assert_eq!(html.matches("<rect class=\"fail\" ").count() - 1, 4);
        let labels = html.matches("text-anchor=\"middle\">day-").count();
        assert!((12..=13).contains(&labels), "{labels} labels");
    }

    #[test]
    fn history_page() {
        let rows = fixtures::rows();
        let html = history(fixtures::BAG, &rows);
        assert_balanced(&html);
        assert!(!html.to_lowercase().contains("<script"));
        assert!(html.contains(&format!("<title>History of {ESCAPED_BAG}</title>")));
        assert_eq!(
            html.matches("<tr><td><time>").count(),
            3,
            "one row per audit"
        );
        assert!(html.contains("manifest re-written") && html.contains("baseline recorded"));
        assert!(html.contains("permission denied: &lt;root&gt; &amp; \\u{0}"));
        assert!(history("b", &[]).contains("Never audited."));
    }
}
