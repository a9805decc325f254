"""AWS IoT Core handoff: register the station CA, hand certificates over, reconcile.

The cloud side runs through boto3 (the optional extra ``[aws]``), configured the standard boto3
way (environment including ``AWS_ENDPOINT_URL``, shared config, instance role); nothing about
AWS lives in station.toml. Every cloud step is recorded in the audit database before and after
it runs (:mod:`station.aws.journal`), so a rerun skips what is done and resumes what a crash
interrupted; the reconcile only reads.
"""

from station.aws.errors import AwsError
from station.aws.source import HandoffSource, LocalCertificate, StationSource

__all__ = ["AwsError", "HandoffSource", "LocalCertificate", "StationSource"]
