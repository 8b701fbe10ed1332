"""A Schedy client and worker written from docs/protocol.md alone, with
nothing but Python's standard library (urllib): the proof that the document
is enough to write a worker in another language. Section numbers below are
the document's."""

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request


class HttpError(Exception):
    def __init__(self, status, body):
        super().__init__("HTTP %d: %s" % (status, body[:150]))
        self.status = status
        self.body = body


class Client:
    """Section 1 (conventions) and 2 (authentication)."""

    def __init__(self, config):
        self.root = config["root"]
        self.email = config["email"]
        self.secret = config["token"]
        self.login_path = "passauth/" if config.get("token_type") == "password" else "token/"
        self.bearer = None
        self.expires_at = 0.0
        self.lock = threading.Lock()

    def login(self):
        status, _, body = self._send("POST", self.login_path, {"email": self.email, "token": self.secret},
                                     auth=False)
        if status != 200:
            raise HttpError(status, body)
        answer = json.loads(body)
        self.bearer, self.expires_at = answer["token"], float(answer["expiresAt"])

    def _send(self, method, path, document=None, headers=None, auth=True):
        data = None if document is None else json.dumps(document).encode("utf-8")
        request = urllib.request.Request(self.root + path, data=data, method=method)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        if auth:
            request.add_header("Authorization", "Bearer " + self.bearer)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.headers, response.read().decode("utf-8")
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode("utf-8")

    def request(self, method, path, document=None, headers=None):
        """(status, headers, parsed body or None). Renews the bearer before it expires and once on 401;
        retries 500 and 503, which mean that nothing was applied."""
        with self.lock:
            if self.bearer is None or time.time() > self.expires_at - 60:
                self.login()
        for attempt in range(10):
            status, answer_headers, body = self._send(method, path, document, headers)
            if status == 401 and attempt == 0:
                with self.lock:
                    self.login()
                continue
            if status in (500, 503):
                time.sleep(min(0.05 * 2 ** attempt, 2.0))
                continue
            break
        if status >= 300 and status not in (304,):
            raise HttpError(status, body)
        return status, answer_headers, (json.loads(body) if body else None)

    @staticmethod
    def segment(name):
        """A name as one path segment, every reserved character encoded (section 1)."""
        return urllib.parse.quote(name, safe="")

    def experiment_path(self, name):
        return "experiments/%s/" % self.segment(name)

    def put_experiment(self, name, document, create_only=False):
        headers = {"If-None-Match": "*"} if create_only else {}
        return self.request("PUT", self.experiment_path(name), document, headers)[2]

    def get_experiment(self, name):
        return self.request("GET", self.experiment_path(name))[2]

    def jobs(self, name, **params):
        """Every job, walking the pages (section 3)."""
        items, start = [], None
        while True:
            query = dict(params)
            if start is not None:
                query["start"] = start
            path = self.experiment_path(name) + "jobs/"
            if query:
                path += "?" + urllib.parse.urlencode(query)
            page = self.request("GET", path)[2]
            items += page["items"]
            start = page["next"]
            if start is None:
                return items


class Worker:
    """The worker loop of section 5: nextjob, claim with If-Match, report, finish."""

    def __init__(self, client, experiment, train):
        self.client = client
        self.experiment = experiment
        self.train = train  # train(hyperparameters, results, report) -> final results
        self.claims_lost = 0
        self.jobs_done = 0

    def run_one(self):
        """Runs one job. False when nextjob/ answered 204 (nothing to do now)."""
        base = self.client.experiment_path(self.experiment)
        while True:
            status, headers, job = self.client.request("GET", base + "nextjob/")
            if status == 204:
                return False
            job_path = base + "jobs/%s/" % self.client.segment(job["id"])
            etag = headers["ETag"]
            hyperparameters, results = job["hyperparameters"], job["results"]
            try:
                _, headers, _ = self.client.request(
                    "PUT", job_path, {"status": "RUNNING", "hyperparameters": hyperparameters,
                                      "results": results}, {"If-Match": etag})
            except HttpError as e:
                if e.status != 412:
                    raise
                self.claims_lost += 1  # another worker claimed it first: ask again
                continue
            etag = headers["ETag"]

            def report(new_results):
                nonlocal etag
                _, answer, _ = self.client.request(
                    "PUT", job_path, {"status": "RUNNING", "hyperparameters": hyperparameters,
                                      "results": new_results}, {"If-Match": etag})
                etag = answer["ETag"]

            final = self.train(hyperparameters, dict(results), report)
            self.client.request("PUT", job_path, {"status": "DONE", "hyperparameters": hyperparameters,
                                                  "results": final}, {"If-Match": etag})
            self.jobs_done += 1
            return True
