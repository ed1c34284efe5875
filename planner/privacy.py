"""Where personal data may go: the columns that are personal, and the one folder that holds them.

Register data is personal data (UU 27/2022). Shared outputs carry aggregates only; files with NIKs,
names or addresses are written only under ``OUT/private/``, beside a README saying not to share them.
"""

from __future__ import annotations

from pathlib import Path

#: Columns that identify a resident; a Plan or any shared table must never carry them.
PERSONAL_COLUMNS = {"nik", "nama", "alamat", "rt", "rw", "tgl_lahir", "kk", "no_kk", "nama_lengkap", "telepon",
                    "no_hp", "phone"}

PRIVATE_README = ("Files in this folder hold personal data (NIK, names, addresses) of residents.\n"
                  "Do NOT share, upload or e-mail them; keep them on the office computer.\n"
                  "register-state.csv is next week's starting point for `planner progress` and\n"
                  "`planner plan --state`.\n"
                  "Berkas di folder ini berisi data pribadi penduduk (NIK, nama, alamat): JANGAN dibagikan.\n")


def private_folder(out: str | Path) -> Path:
    """``out/private/``, created with its README: the only place personal files are written."""
    folder = Path(out) / "private"
    folder.mkdir(parents=True, exist_ok=True)
    readme = folder / "README.txt"
    if not readme.exists():
        readme.write_text(PRIVATE_README, encoding="utf-8")
    return folder
