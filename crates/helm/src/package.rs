//! `helm package`: a chart directory (minus `.helmignore`d files) into
//! `<name>-<version>.tgz` with entries under `<name>/`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// Packages the chart at `chart_dir` into `destination`, returning the archive path.
pub fn package(chart_dir: &Path, destination: &Path) -> Result<PathBuf, Error> {
    let chart = crate::loader::load_dir(chart_dir)?;
    let files = crate::loader::collect_dir_files(chart_dir)?;
    let name = chart.name().to_owned();
    let target = destination.join(format!("{name}-{}.tgz", chart.metadata.version));
    let output =
        std::fs::File::create(&target).map_err(|e| Error::io(target.display().to_string(), e))?;
    let encoder = flate2::write::GzEncoder::new(output, flate2::Compression::default());
    let mut builder = tar::Builder::new(encoder);
    for file in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(file.data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(
                &mut header,
                format!("{name}/{}", file.name),
                file.data.as_slice(),
            )
            .map_err(|e| Error::io("writing chart archive", e))?;
    }
    let mut encoder = builder
        .into_inner()
        .map_err(|e| Error::io("writing chart archive", e))?;
    encoder
        .flush()
        .map_err(|e| Error::io("writing chart archive", e))?;
    encoder
        .finish()
        .map_err(|e| Error::io("writing chart archive", e))?;
    Ok(target)
}
