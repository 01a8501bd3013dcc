"""Import every model module so the metadata (migrations, create_all, integrity counts) sees all tables."""
from . import maintenance  # noqa: F401  (seed_records)
from .concerns import models as concerns  # noqa: F401
from .crime import models as crime  # noqa: F401
from .evidence import models as evidence  # noqa: F401
from .feedback import models as feedback  # noqa: F401
from .following import models as following  # noqa: F401
from .indicators import models as indicators  # noqa: F401
from .notifications import models as notifications  # noqa: F401
from .pack import models as pack  # noqa: F401
from .partners import models as partners  # noqa: F401
from .people import models as people  # noqa: F401
from .places import models as places  # noqa: F401
from .plan import models as plan  # noqa: F401
from .reporting import models as reporting  # noqa: F401
from .tasking import models as tasking  # noqa: F401
