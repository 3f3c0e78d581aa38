#!/usr/bin/env python3
"""fake_aws.py: a tiny stand-in for AWS endpoints, for the EC2 driver's
tests. Binds 127.0.0.1 on a free port, prints the port on stdout, serves
until stdin closes (the test process ended) or it is killed.

  fake_aws.py imds     IMDSv2: token required, one role, a credential doc
  fake_aws.py ec2      EC2 Query API; the first path segment picks the
                       scenario (see SCENARIOS); GET /_count/NAME returns
                       how many requests NAME received.

Every EC2 request's SigV4 signature is recomputed here (independently of
the C code) with key AKIDTEST / secret fake-secret; a mismatch is answered
403 SignatureDoesNotMatch."""
import hashlib
import hmac
import json
import os
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = {"AKIDTEST": "fake-secret"}
TOKEN = "imds-token-42"
NS = 'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"'


def err_xml(code, msg):
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            f'<Code>{code}</Code><Message>{msg}</Message></Error></Errors>'
            f'<RequestID>req-{code}</RequestID></Response>')


def instance_xml(iid, state="running", ip="10.0.0.5"):
    return (f'<item><instanceId>{iid}</instanceId><imageId>ami-1</imageId>'
            f'<instanceState><code>16</code><name>{state}</name></instanceState>'
            f'<privateIpAddress>{ip}</privateIpAddress>'
            f'<instanceType>t3.micro</instanceType>'
            f'<launchTime>2026-11-22T10:00:00.000Z</launchTime>'
            f'<tagSet><item><key>fleet</key><value>sb</value></item></tagSet>'
            f'</item>')


def describe_xml(ids, next_token=None):
    nt = f'<nextToken>{next_token}</nextToken>' if next_token else ''
    items = ''.join(instance_xml(i) for i in ids)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse {NS}>'
            f'<requestId>r-1</requestId><reservationSet><item>'
            f'<reservationId>r-1</reservationId><instancesSet>{items}'
            f'</instancesSet></item></reservationSet>{nt}'
            f'</DescribeInstancesResponse>')


def ok_answer(form):
    """A correct answer for the actions the client sends."""
    action = form.get("Action", [""])[0]
    if action == "DescribeInstances":
        # two pages of two: the page is chosen by NextToken
        if form.get("NextToken", [""])[0] == "page2":
            return 200, describe_xml(["i-3", "i-4"])
        return 200, describe_xml(["i-1", "i-2"], "page2")
    if action == "TerminateInstances":
        items = ''.join(
            f'<item><instanceId>{v[0]}</instanceId><currentState><code>32'
            f'</code><name>shutting-down</name></currentState><previousState>'
            f'<code>16</code><name>running</name></previousState></item>'
            for k, v in sorted(form.items()) if k.startswith("InstanceId."))
        return 200, (f'<TerminateInstancesResponse {NS}><requestId>r</requestId>'
                     f'<instancesSet>{items}</instancesSet>'
                     f'</TerminateInstancesResponse>')
    return 400, err_xml("InvalidAction", f"action {action} not faked")


def scenario(name, n, form):
    """(status, body) for request number n (1-based) of a scenario."""
    if name == "ok":
        return ok_answer(form)
    if name == "authfail":
        return 401, err_xml("AuthFailure",
                            "AWS was not able to validate the provided access credentials")
    if name == "throttle":
        if n <= 2:
            return 503, err_xml("RequestLimitExceeded", "Request limit exceeded.")
        return ok_answer(form)
    if name == "err500":
        if n == 1:
            return 500, err_xml("InternalError", "An internal error has occurred")
        return ok_answer(form)
    if name == "always503":
        return 503, err_xml("Unavailable", "The server is overloaded")
    if name == "notfound":
        return 400, err_xml("InvalidInstanceID.NotFound",
                            "The instance ID 'i-nope' does not exist")
    if name == "truncated":
        return 200, describe_xml(["i-1"])[:150]
    if name == "garbage":
        return 200, "\x00\x01\xff not xml at all <<<"
    if name == "empty":
        return 200, ""
    if name == "wrongshape":
        return 200, f'<SomethingElse {NS}><requestId>x</requestId></SomethingElse>'
    if name == "noid":
        return 200, describe_xml([]).replace(
            "<instancesSet>", "<instancesSet><item><imageId>a</imageId></item>")
    if name == "htmlerror":
        return 502, "<html><body>Bad gateway from some proxy</body></html>"
    if name == "looptoken":
        return 200, describe_xml(["i-1"], "same")
    return 404, err_xml("NoSuchScenario", name)


def h(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def check_sigv4(handler, body):
    """Recomputes the signature of an EC2 POST; returns an error or None."""
    auth = handler.headers.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "no SigV4 Authorization header"
    parts = dict(p.strip().split("=", 1) for p in auth[17:].split(","))
    ak, date, region, service, term = parts["Credential"].split("/")
    if ak not in SECRET or service != "ec2" or term != "aws4_request":
        return "bad credential scope " + parts["Credential"]
    names = parts["SignedHeaders"].split(";")
    for need in ("host", "x-amz-date"):
        if need not in names:
            return need + " not signed"
    canon_headers = "".join(
        n + ":" + " ".join(handler.headers.get(n, "").split()) + "\n"
        for n in names)
    path = urllib.parse.urlsplit(handler.path).path
    creq = "\n".join([handler.command, urllib.parse.quote(path, safe="/~"),
                      "", canon_headers, parts["SignedHeaders"],
                      hashlib.sha256(body).hexdigest()])
    amz = handler.headers.get("x-amz-date", "")
    sts = "\n".join(["AWS4-HMAC-SHA256", amz,
                     f"{date}/{region}/{service}/aws4_request",
                     hashlib.sha256(creq.encode()).hexdigest()])
    k = h(h(h(h(("AWS4" + SECRET[ak]).encode(), date), region), service),
          "aws4_request")
    want = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    if not amz.startswith(date) or want != parts["Signature"]:
        return "signature mismatch"
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    counts = {}
    lock = threading.Lock()  # threads: curl keeps connections open

    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="text/xml;charset=UTF-8"):
        data = body.encode("latin-1") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "fake-req-1")
        self.end_headers()
        self.wfile.write(data)

    # --- IMDS ---
    def imds(self):
        if self.command == "PUT" and self.path == "/latest/api/token":
            if "X-aws-ec2-metadata-token-ttl-seconds" not in self.headers:
                return self.reply(400, "missing TTL", "text/plain")
            return self.reply(200, TOKEN, "text/plain")
        if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
            return self.reply(401, "token required", "text/plain")
        base = "/latest/meta-data/iam/security-credentials/"
        if self.command == "GET" and self.path == base:
            return self.reply(200, "sb-role\n", "text/plain")
        if self.command == "GET" and self.path == base + "sb-role":
            # written out so that the "\/" escape reaches the client
            text = ('{"Code": "Success", "Type": "AWS-HMAC", '
                    '"AccessKeyId": "ASIAIMDS", "SecretAccessKey": '
                    '"imds\\/secret", "Token": "imds-session-token", '
                    '"LastUpdated": 1, "Expiration": "2099-01-02T03:04:05Z"}')
            if MODE == "imds-bad":
                text = '{"Code": "Success", "AccessKeyId": "ASIA'
            return self.reply(200, text, "application/json")
        return self.reply(404, "not found", "text/plain")

    # --- EC2 ---
    def ec2(self, body):
        name = self.path.strip("/").split("/")[0]
        if self.command == "GET" and self.path.startswith("/_count/"):
            with Handler.lock:
                seen = Handler.counts.get(self.path[8:], 0)
            return self.reply(200, str(seen), "text/plain")
        with Handler.lock:
            Handler.counts[name] = n = Handler.counts.get(name, 0) + 1
        problem = check_sigv4(self, body)
        if problem:
            return self.reply(403, err_xml("SignatureDoesNotMatch", problem))
        form = urllib.parse.parse_qs(body.decode(), keep_blank_values=True)
        status, text = scenario(name, n, form)
        self.reply(status, text)

    def handle_any(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(n) if n else b""
        if MODE.startswith("imds"):
            self.imds()
        else:
            self.ec2(body)

    do_GET = do_PUT = do_POST = handle_any


def main():
    global MODE
    MODE = sys.argv[1] if len(sys.argv) > 1 else "ec2"
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(srv.server_address[1], flush=True)

    def watch_stdin():
        sys.stdin.read()
        os._exit(0)
    threading.Thread(target=watch_stdin, daemon=True).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
