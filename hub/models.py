"""Every model module, imported once so the metadata is complete (Alembic, tests)."""
from hub.audit import AuditEntry  # noqa: F401
from hub.auth.models import ApiToken  # noqa: F401
from hub.org.models import Holiday, Membership, PersonalQuiet, RoleGrant, Unit, User, WorkingHours  # noqa: F401,E501
from hub.files.models import Attachment  # noqa: F401
from hub.notices.models import FeedbackKind, Notice, NoticeAudience, NoticeFeedback, Receipt  # noqa: F401,E501
from hub.notices.models import Suggestion  # noqa: F401
from hub.channels.models import (Channel, ChannelRead, ChannelTarget, Mention, Message,  # noqa: F401
                                 MessageAck, MessageEdit)
from hub.documents.models import (Document, DocumentFile, DocumentIssuer, DocumentRecipient,  # noqa: F401
                                  DocumentStep, DocumentTask, NumberCounter)
from hub.datarequests.models import (DataField, DataRequest, DataRequestAudience,  # noqa: F401
                                     DataRequestFeedback, DataRequestField, DataRequestReminder,
                                     DataRequestUnit, DataValue, DataValueHistory)
from hub.leases import JobLease  # noqa: F401
