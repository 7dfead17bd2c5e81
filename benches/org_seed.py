#!/usr/bin/env python3
"""Seeds an organization of reference member accounts into a local moto
server, for benches/org-scale.sh (docs/scale.md).

    org_seed.py ENDPOINT ACCOUNTS TABLE

Each member account gets the issue's reference estate: 5 hosted zones with
400 record sets each (2,000 in all, plus the zones' SOA and NS; TXT records,
so that the endpoints family, whose TLS probes of private addresses would
measure this machine's network rather than the scan, has nothing to probe:
its cost is benches' TLS figure in docs/performance.md), and 20
certificates: 12 requested and DNS-validated (their validation CNAMEs
UPSERTed into the zones; one deleted again, so one
cert.validation-record-missing) and 8 imported self-signed ones expiring
in 5 to 700 days. The accounts are created with Organizations and entered
with STS AssumeRole (moto keeps each account's state apart behind the
assumed credentials). The findings table is created in the central account.
Prints {"accounts": [...], "seconds": ...} on stdout.

Refuses any endpoint that is not loopback.
"""

import datetime
import json
import sys
import time
from urllib.parse import urlparse

import boto3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROLE = "zonewarden-member"
ZONES = 5
RECORDS_PER_ZONE = 400
REQUESTED = 12
IMPORTED = 8
EXPIRY_DAYS = [5, 20, 45, 90, 150, 270, 365, 700]


def self_signed(domain, days):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def seed_account(session, index):
    r53 = session.client("route53")
    acm = session.client("acm", region_name="eu-west-1")
    zone_ids = []
    for z in range(ZONES):
        name = f"ref{index}-{z}.example."
        zid = r53.create_hosted_zone(Name=name, CallerReference=f"{name}{time.time()}")["HostedZone"]["Id"]
        zone_ids.append((zid, name))
        changes = [
            {
                "Action": "UPSERT",
                "ResourceRecordSet": {
                    "Name": f"rec{r}.{name}",
                    "Type": "TXT",
                    "TTL": 300,
                    "ResourceRecords": [{"Value": f'"v=ref{index}-{z}-{r}"'}],
                },
            }
            for r in range(RECORDS_PER_ZONE)
        ]
        for i in range(0, len(changes), 200):
            r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": changes[i : i + 200]})
    arns = []
    for k in range(REQUESTED):
        zid, zname = zone_ids[k % ZONES]
        domain = f"app{k}.{zname.rstrip('.')}"
        arn = acm.request_certificate(DomainName=domain, ValidationMethod="DNS")["CertificateArn"]
        arns.append((arn, zid))
    for k in range(IMPORTED):
        cert, key = self_signed(f"legacy{k}.ref{index}-0.example", EXPIRY_DAYS[k])
        acm.import_certificate(Certificate=cert, PrivateKey=key)
    # Validation CNAMEs into their zones; the first one is removed again.
    for n, (arn, zid) in enumerate(arns):
        for _ in range(20):
            opts = acm.describe_certificate(CertificateArn=arn)["Certificate"].get("DomainValidationOptions", [])
            if opts and all("ResourceRecord" in o for o in opts):
                break
            time.sleep(0.2)
        if n == 0:
            continue
        changes = [
            {
                "Action": "UPSERT",
                "ResourceRecordSet": {
                    "Name": o["ResourceRecord"]["Name"],
                    "Type": o["ResourceRecord"]["Type"],
                    "TTL": 300,
                    "ResourceRecords": [{"Value": o["ResourceRecord"]["Value"]}],
                },
            }
            for o in opts
            if "ResourceRecord" in o
        ]
        if changes:
            r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": changes})


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    endpoint, count, table = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if urlparse(endpoint).hostname not in ("127.0.0.1", "localhost"):
        sys.exit(f"org_seed: {endpoint} is not a loopback endpoint")
    started = time.time()
    kw = dict(
        endpoint_url=endpoint,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    ddb = boto3.client("dynamodb", **kw)
    ddb.create_table(
        TableName=table,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    org = boto3.client("organizations", **kw)
    org.create_organization(FeatureSet="ALL")
    sts = boto3.client("sts", **kw)
    accounts = []
    for i in range(count):
        status = org.create_account(AccountName=f"reference-{i}", Email=f"ref{i}@example.com")
        account = status["CreateAccountStatus"]["AccountId"]
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="seed")["Credentials"]
        session = boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name="eu-west-1",
        )

        class Endpointed:
            def client(self, service, region_name="eu-west-1"):
                return session.client(service, endpoint_url=endpoint, region_name=region_name)

        seed_account(Endpointed(), i)
        accounts.append(account)
    print(json.dumps({"accounts": accounts, "seconds": round(time.time() - started, 1)}))


if __name__ == "__main__":
    main()
