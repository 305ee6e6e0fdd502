"""What a run leaves behind: report.json and the exit code (`report`), report.html (`html`, `templates/`),
summary.md, the HAR file, the signed manifest, labels in two languages (`i18n`), `p111 diff` and where the time went
(`timing`). May import `harness.core`, `harness.config` and `harness.http`."""
