//! Tables printed exactly like the flux CLI's (olekukonko/tablewriter with `flux get`'s
//! settings): upper-case headers, every cell padded to its column's width and followed by a
//! tab; the header's last cell is followed by a space instead.

use std::fmt::Write as _;

/// Renders `rows` under `headers`. Every row has as many cells as there are headers.
pub fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|header| width(header)).collect();
    for row in rows {
        for (column, cell) in row.iter().enumerate() {
            widths[column] = widths[column].max(width(cell));
        }
    }
    let mut out = String::new();
    let last = headers.len().saturating_sub(1);
    for (column, header) in headers.iter().enumerate() {
        let separator = if column == last { ' ' } else { '\t' };
        let _ = write!(
            out,
            "{}{separator}",
            pad(&header.to_uppercase(), widths[column])
        );
    }
    out.push('\n');
    for row in rows {
        for (column, cell) in row.iter().enumerate() {
            let _ = write!(out, "{}\t", pad(cell, widths[column]));
        }
        out.push('\n');
    }
    out
}

fn width(text: &str) -> usize {
    text.chars().count()
}

fn pad(text: &str, to: usize) -> String {
    format!("{text}{}", " ".repeat(to.saturating_sub(width(text))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(row: &[&str]) -> Vec<String> {
        row.iter().map(|cell| (*cell).to_owned()).collect()
    }

    /// flux2's cmd/flux/testdata/get/get.golden, byte for byte.
    #[test]
    fn matches_flux_golden_output() {
        let row = |name| {
            cells(&[
                name,
                "main@sha1:696f056d",
                "False",
                "True",
                "Fetched revision: main@sha1:696f056d",
            ])
        };
        let table = render(
            &["Name", "Revision", "Suspended", "Ready", "Message"],
            &[row("podinfo"), row("podinfo-shard1"), row("podinfo-shard2")],
        );
        let expected = "NAME          \tREVISION          \tSUSPENDED\tREADY\tMESSAGE                              \n\
            podinfo       \tmain@sha1:696f056d\tFalse    \tTrue \tFetched revision: main@sha1:696f056d\t\n\
            podinfo-shard1\tmain@sha1:696f056d\tFalse    \tTrue \tFetched revision: main@sha1:696f056d\t\n\
            podinfo-shard2\tmain@sha1:696f056d\tFalse    \tTrue \tFetched revision: main@sha1:696f056d\t\n";
        assert_eq!(table, expected);
    }

    #[test]
    fn headers_wider_than_cells_set_the_width() {
        let table = render(&["Name", "Ready"], &[cells(&["a", "True"])]);
        assert_eq!(table, "NAME\tREADY \na   \tTrue \t\n");
    }
}
