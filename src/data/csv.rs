//! Reading studies from CSV files (the `csv` crate), with errors that name the file, the
//! line and the column.
//!
//! [`read_studies`] streams the file and keeps only the columns it needs, so a million-row
//! file costs a few vectors of `f64`. [`Table`] holds a whole file as text, for commands
//! that echo their input (such as effect-size computation).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::Studies;
use crate::error::{MetaError, Result};

/// Where the precision of each estimate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precision {
    /// A column of sampling variances.
    Variance(String),
    /// A column of standard errors.
    StandardError(String),
}

/// Which columns make up the studies.
///
/// # Examples
/// ```
/// use metan::data::csv::{CsvSpec, read_studies_from};
/// let text = "study,yi,sei,year\nA,0.5,0.2,2001\nB,0.1,0.1,2005\n";
/// let spec = CsvSpec::new("yi").standard_errors("sei").labels("study").moderator("year");
/// let s = read_studies_from(text.as_bytes(), "<memory>", &spec)?;
/// assert_eq!(s.k(), 2);
/// assert_eq!(s.label(1), "B");
/// assert!((s.vi()[0] - 0.04).abs() < 1e-15);
/// assert_eq!(s.moderator("year").unwrap(), &[2001.0, 2005.0]);
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvSpec {
    yi: String,
    precision: Precision,
    labels: Option<String>,
    moderators: Vec<String>,
    attributes: Vec<String>,
}

impl CsvSpec {
    /// Estimates in column `yi`, variances in column `vi` (change with the setters).
    pub fn new(yi: impl Into<String>) -> Self {
        CsvSpec {
            yi: yi.into(),
            precision: Precision::Variance("vi".into()),
            labels: None,
            moderators: Vec::new(),
            attributes: Vec::new(),
        }
    }
    /// Sampling variances from this column.
    pub fn variances(mut self, col: impl Into<String>) -> Self {
        self.precision = Precision::Variance(col.into());
        self
    }
    /// Standard errors from this column.
    pub fn standard_errors(mut self, col: impl Into<String>) -> Self {
        self.precision = Precision::StandardError(col.into());
        self
    }
    /// Study labels from this column.
    pub fn labels(mut self, col: impl Into<String>) -> Self {
        self.labels = Some(col.into());
        self
    }
    /// A numeric moderator column.
    pub fn moderator(mut self, col: impl Into<String>) -> Self {
        self.moderators.push(col.into());
        self
    }
    /// A string attribute column.
    pub fn attribute(mut self, col: impl Into<String>) -> Self {
        self.attributes.push(col.into());
        self
    }
}

fn csv_err(
    path: &str,
    row: Option<usize>,
    column: Option<&str>,
    message: impl Into<String>,
) -> MetaError {
    MetaError::Csv {
        path: path.to_string(),
        row,
        column: column.map(str::to_string),
        message: message.into(),
    }
}

fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| {
        csv_err(
            &path.display().to_string(),
            None,
            None,
            format!("cannot open: {e}"),
        )
    })
}

fn map_csv_error(path: &str, e: &csv::Error) -> MetaError {
    let line = e.position().map(|p| p.line() as usize);
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("ragged row: {len} fields, expected {expected_len} (as in the header)")
        }
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8 text (binary data?)".to_string(),
        csv::ErrorKind::Io(io) => format!("read error: {io}"),
        _ => e.to_string(),
    };
    csv_err(path, line, None, message)
}

fn reader<R: Read>(input: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(input)
}

/// A reader that leaves records as bytes, untrimmed: [`read_studies_from`] trims and checks
/// the UTF-8 of each record itself, without the two allocations per record of csv's
/// trimming `StringRecord`s.
fn byte_reader<R: Read>(input: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(input)
}

fn headers<R: Read>(rdr: &mut csv::Reader<R>, path: &str) -> Result<Vec<String>> {
    let h = rdr.headers().map_err(|e| map_csv_error(path, &e))?;
    let h: Vec<String> = h.iter().map(|c| c.trim().to_string()).collect();
    if h.is_empty() || (h.len() == 1 && h[0].is_empty()) {
        return Err(csv_err(path, Some(1), None, "empty file: no header row"));
    }
    if let Some(bad) = h
        .iter()
        .find(|c| c.chars().any(|ch| ch.is_control() && ch != '\t'))
    {
        return Err(csv_err(
            path,
            Some(1),
            None,
            format!("header contains control characters ({bad:?}): binary data?"),
        ));
    }
    Ok(h)
}

fn column_index(headers: &[String], name: &str, path: &str) -> Result<usize> {
    headers.iter().position(|h| h == name).ok_or_else(|| {
        csv_err(
            path,
            Some(1),
            Some(name),
            format!("column not found; the header has: {}", headers.join(", ")),
        )
    })
}

/// Parses one numeric cell: finite numbers only.
pub(crate) fn parse_number(text: &str, path: &str, line: usize, column: &str) -> Result<f64> {
    let t = text.trim();
    if t.is_empty() || t == "NA" {
        return Err(csv_err(path, Some(line), Some(column), "missing value"));
    }
    match t.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        Ok(x) => Err(csv_err(
            path,
            Some(line),
            Some(column),
            format!("`{t}` is not a finite number ({x})"),
        )),
        Err(_) => Err(csv_err(
            path,
            Some(line),
            Some(column),
            format!("`{t}` is not a number"),
        )),
    }
}

/// Reads studies from a CSV file.
///
/// # Errors
/// [`MetaError::Csv`] naming the file, the line (the header is line 1) and the column for:
/// a missing or unreadable file, binary data, a missing column, a ragged row, an empty
/// table, a missing value, text or a non-finite number in a numeric column, and a variance
/// or standard error that is not `> 0`.
pub fn read_studies(path: impl AsRef<Path>, spec: &CsvSpec) -> Result<Studies> {
    let path = path.as_ref();
    read_studies_from(open(path)?, &path.display().to_string(), spec)
}

/// Reads studies from any reader; `name` stands for the file in error messages.
///
/// # Errors
/// As [`read_studies`].
pub fn read_studies_from<R: Read>(input: R, name: &str, spec: &CsvSpec) -> Result<Studies> {
    let mut rdr = byte_reader(input);
    let h = headers(&mut rdr, name)?;
    let (pcol, is_se) = match &spec.precision {
        Precision::Variance(c) => (c.as_str(), false),
        Precision::StandardError(c) => (c.as_str(), true),
    };
    let iy = column_index(&h, &spec.yi, name)?;
    let ip = column_index(&h, pcol, name)?;
    let il = spec
        .labels
        .as_deref()
        .map(|c| column_index(&h, c, name))
        .transpose()?;
    let im: Vec<usize> = spec
        .moderators
        .iter()
        .map(|c| column_index(&h, c, name))
        .collect::<Result<_>>()?;
    let ia: Vec<usize> = spec
        .attributes
        .iter()
        .map(|c| column_index(&h, c, name))
        .collect::<Result<_>>()?;

    let mut yi = Vec::new();
    let mut vi = Vec::new();
    let mut labels = Vec::new();
    let mut mods: Vec<Vec<f64>> = vec![Vec::new(); im.len()];
    let mut attrs: Vec<Vec<String>> = vec![Vec::new(); ia.len()];
    let mut rec = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(map_csv_error(name, &e)),
        }
        let line = rec.position().map(|p| p.line() as usize).unwrap_or(0);
        // the whole record must be text, as csv's StringRecord requires
        if std::str::from_utf8(rec.as_slice()).is_err() {
            return Err(csv_err(
                name,
                Some(line),
                None,
                "not valid UTF-8 text (binary data?)",
            ));
        }
        // fields split a valid record at ASCII delimiters, so each is valid UTF-8 too
        let cell = |i: usize| {
            rec.get(i)
                .and_then(|b| std::str::from_utf8(b).ok())
                .unwrap_or("")
                .trim()
        };
        yi.push(parse_number(cell(iy), name, line, &spec.yi)?);
        let p = parse_number(cell(ip), name, line, pcol)?;
        let v = if is_se { p * p } else { p };
        if !(p > 0.0 && v > 0.0 && v.is_finite()) {
            let what = if is_se {
                "a standard error"
            } else {
                "a sampling variance"
            };
            return Err(csv_err(
                name,
                Some(line),
                Some(pcol),
                format!("{what} must be > 0, got {p}"),
            ));
        }
        vi.push(v);
        if let Some(il) = il {
            labels.push(cell(il).to_string());
        }
        for (j, &c) in im.iter().enumerate() {
            mods[j].push(parse_number(cell(c), name, line, &spec.moderators[j])?);
        }
        for (j, &c) in ia.iter().enumerate() {
            attrs[j].push(cell(c).to_string());
        }
    }
    if yi.is_empty() {
        return Err(csv_err(
            name,
            None,
            None,
            "empty table: a header but no data rows",
        ));
    }
    let mut s = Studies::from_variances(yi, vi)?;
    if il.is_some() {
        s = s.with_labels(labels)?;
    }
    for (n, m) in spec.moderators.iter().zip(mods) {
        s = s.with_moderator(n.clone(), m)?;
    }
    for (n, a) in spec.attributes.iter().zip(attrs) {
        s = s.with_attribute(n.clone(), a)?;
    }
    Ok(s)
}

/// A whole CSV file as text: a header and rows of equal length.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    name: String,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    lines: Vec<usize>,
}

impl Table {
    /// Reads a CSV file.
    ///
    /// # Errors
    /// As [`read_studies`], for the file-level problems.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        Self::from_reader(open(path)?, &path.display().to_string())
    }

    /// Reads CSV text from any reader; `name` stands for the file in error messages.
    ///
    /// # Errors
    /// As [`Table::from_path`].
    pub fn from_reader<R: Read>(input: R, name: &str) -> Result<Self> {
        let mut rdr = reader(input);
        let headers = headers(&mut rdr, name)?;
        let mut rows = Vec::new();
        let mut lines = Vec::new();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| map_csv_error(name, &e))?;
            lines.push(rec.position().map(|p| p.line() as usize).unwrap_or(0));
            rows.push(rec.iter().map(str::to_string).collect());
        }
        if rows.is_empty() {
            return Err(csv_err(
                name,
                None,
                None,
                "empty table: a header but no data rows",
            ));
        }
        Ok(Table {
            name: name.to_string(),
            headers,
            rows,
            lines,
        })
    }

    /// The file name used in messages.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Column names.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }
    /// Number of data rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    /// True when there are no data rows (never, for a table that was read successfully).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    /// The rows, as text.
    pub fn rows(&self) -> &[Vec<String>] {
        &self.rows
    }
    /// True when the table has this column.
    pub fn has_column(&self, name: &str) -> bool {
        self.headers.iter().any(|h| h == name)
    }

    /// A column as text.
    ///
    /// # Errors
    /// [`MetaError::Csv`] when the column does not exist.
    pub fn text_column(&self, name: &str) -> Result<Vec<String>> {
        let i = column_index(&self.headers, name, &self.name)?;
        Ok(self.rows.iter().map(|r| r[i].clone()).collect())
    }

    /// A column of finite numbers.
    ///
    /// # Errors
    /// [`MetaError::Csv`] naming the line and column for a missing column, a missing value,
    /// text or a non-finite number.
    pub fn numeric_column(&self, name: &str) -> Result<Vec<f64>> {
        let i = column_index(&self.headers, name, &self.name)?;
        self.rows
            .iter()
            .zip(&self.lines)
            .map(|(r, &line)| parse_number(&r[i], &self.name, line, name))
            .collect()
    }

    /// A column of finite numbers where empty and `NA` cells are `None` (a column of
    /// optional values, such as the columns of the measures a row does not use); `None`
    /// for every row when the table has no such column.
    ///
    /// # Errors
    /// [`MetaError::Csv`] naming the line and column for text or a non-finite number.
    pub fn optional_numeric_column(&self, name: &str) -> Result<Vec<Option<f64>>> {
        let Some(i) = self.headers.iter().position(|h| h == name) else {
            return Ok(vec![None; self.rows.len()]);
        };
        self.rows
            .iter()
            .zip(&self.lines)
            .map(|(r, &line)| {
                let t = r[i].trim();
                if t.is_empty() || t == "NA" {
                    Ok(None)
                } else {
                    parse_number(t, &self.name, line, name).map(Some)
                }
            })
            .collect()
    }

    /// True when every cell of the column parses as a finite number.
    pub fn is_numeric(&self, name: &str) -> bool {
        self.numeric_column(name).is_ok()
    }

    /// The 1-based file line of data row `i` (the header is line 1).
    pub fn line(&self, i: usize) -> usize {
        self.lines.get(i).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn read(text: &str) -> Result<Studies> {
        read_studies_from(text.as_bytes(), "t.csv", &CsvSpec::new("yi"))
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = read("yi,vi\n0.1,0.2\n0.3,-1\n").unwrap_err();
        assert_eq!(
            e,
            MetaError::Csv {
                path: "t.csv".into(),
                row: Some(3),
                column: Some("vi".into()),
                message: "a sampling variance must be > 0, got -1".into()
            }
        );
        assert_eq!(
            e.to_string(),
            "t.csv: row 3: column `vi`: a sampling variance must be > 0, got -1"
        );
        let e = read("yi,vi\n0.1,0.2\nabc,0.1\n").unwrap_err();
        assert!(
            matches!(e, MetaError::Csv { row: Some(3), ref column, .. } if column.as_deref() == Some("yi"))
        );
        let e = read("yi,vi\nNaN,0.2\n").unwrap_err();
        assert!(matches!(e, MetaError::Csv { row: Some(2), .. }));
        let e = read("yi,vi\n0.1,inf\n").unwrap_err();
        assert!(matches!(e, MetaError::Csv { row: Some(2), .. }));
        let e = read("yi,vx\n0.1,0.2\n").unwrap_err();
        assert!(
            matches!(e, MetaError::Csv { row: Some(1), ref column, .. } if column.as_deref() == Some("vi"))
        );
        let e = read("yi,vi\n0.1,0.2\n0.3\n").unwrap_err();
        assert!(
            matches!(e, MetaError::Csv { row: Some(3), ref message, .. } if message.starts_with("ragged"))
        );
        let e = read("yi,vi\n").unwrap_err();
        assert!(
            matches!(e, MetaError::Csv { ref message, .. } if message.starts_with("empty table"))
        );
        let e = read("").unwrap_err();
        assert!(
            matches!(e, MetaError::Csv { ref message, .. } if message.starts_with("empty file"))
        );
        let junk: &[u8] = &[
            0xff, 0xfe, 0x00, 0x12, b',', 0x80, b'\n', 0x01, b',', 0x02, b'\n',
        ];
        let e = read_studies_from(junk, "j.bin", &CsvSpec::new("yi")).unwrap_err();
        assert!(matches!(e, MetaError::Csv { .. }));
    }

    #[test]
    fn cells_and_headers_are_trimmed_and_rows_must_be_text() {
        let spec = CsvSpec::new("yi").labels("study");
        let s = read_studies_from(
            " study , yi ,vi\n  A , 0.5 , 0.25\n\tB\t,-1e-1,1\n".as_bytes(),
            "t.csv",
            &spec,
        )
        .unwrap();
        assert_eq!(s.yi(), &[0.5, -0.1]);
        assert_eq!(s.vi(), &[0.25, 1.0]);
        assert_eq!(s.labels(), &["A".to_string(), "B".to_string()]);
        // invalid UTF-8 anywhere in a row, even in a column not read
        let mut bytes = b"yi,vi,note\n0.1,0.2,ok\n0.3,0.4,".to_vec();
        bytes.extend_from_slice(&[0xff, 0xfe, b'\n']);
        let e = read_studies_from(&bytes[..], "t.csv", &CsvSpec::new("yi")).unwrap_err();
        assert_eq!(
            e,
            MetaError::Csv {
                path: "t.csv".into(),
                row: Some(3),
                column: None,
                message: "not valid UTF-8 text (binary data?)".into()
            }
        );
    }

    #[test]
    fn table_columns() {
        let t = Table::from_reader("a,b\n1,x\n2,y\n".as_bytes(), "m").unwrap();
        assert_eq!(t.numeric_column("a").unwrap(), vec![1.0, 2.0]);
        assert!(!t.is_numeric("b"));
        assert_eq!(t.text_column("b").unwrap(), vec!["x", "y"]);
        assert_eq!(t.line(1), 3);
    }
}
