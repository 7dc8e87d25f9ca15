"""Settings, built once by the CLI or the server (never at import time).

Every field can be set from the environment with the prefix TRYON_, e.g. TRYON_HFOV_DEG=70.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_ROOT = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_ROOT.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRYON_", frozen=True)

    hfov_deg: float = Field(60.0, ge=1.0, le=170.0, description="assumed horizontal field of view")
    assets_dir: Path = Field(REPO_ROOT / "assets", description="catalog.json and the jewelry models")
    shaders_dir: Path = Field(REPO_ROOT / "shaders")
    data_dir: Path = Field(Path.home() / ".local/share/tryon", description="snapshots and clips")
    max_sessions: int = Field(2, ge=1, description="live sessions at once; the next gets a 503")
    max_upload_mb: float = Field(25.0, gt=0)
    link_ttl_s: int = Field(24 * 3600, gt=0, description="how long share links live")
    use_compositor: bool = True
    admin_token: str | None = Field(None, min_length=16, description="allows POST /api/items (imports); unset: off")

    @property
    def user_catalog_dir(self) -> Path:
        """Pieces designed (`tryon design`) or imported here: a catalog.json with its models and thumbnails."""
        return self.data_dir / "catalog"

    def catalog(self):  # noqa: ANN201 - the import stays lazy (the catalog pulls in trimesh)
        """The built-in catalog plus the user's pieces."""
        from tryon.jewelry.catalog import Catalog

        return Catalog.load_with_user(self.assets_dir, self.user_catalog_dir)
