"""Log your own training script's runs to the platform, as MLflow's tracking client does.

Standard library only: copy this file next to your script, or put clients/python on PYTHONPATH.

    import platform_tracking as pt

    client = pt.Client()                      # PLATFORM_URL and PLATFORM_API_KEY from the environment
    client.create_experiment("tiny-lm")       # once; an experiment you already own is returned as it is
    with client.start_run("tiny-lm-1", experiment="tiny-lm", params={"lr": 0.1}, tags={"team": "nlp"}) as run:
        for step in range(100):
            run.log_metric("loss", loss, step)   # buffered, sent in batches
        run.log_artifact("model.safetensors")
        run.log_artifact("tokenizer.json")
        run.register_model("tiny-lm", weights="model.safetensors", tokenizer="tokenizer.json",
                           config="config.json")
    # Leaving the block ends the run Completed, or Failed with the exception if one escaped it.
"""

import json
import os
import struct
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["Client", "Run", "PlatformError", "save_safetensors"]


class PlatformError(Exception):
    """The platform refused a request: its HTTP status and problem details (title, detail, errors by field)."""

    def __init__(self, status, problem):
        self.status = status
        self.problem = problem if isinstance(problem, dict) else {"detail": str(problem)}
        errors = self.problem.get("errors") or {}
        fields = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())
        super().__init__(f"{status} {self.problem.get('title', '')} {self.problem.get('detail') or fields}".strip())


class Client:
    """The platform's gateway, with an API key (sent as a bearer token)."""

    def __init__(self, url=None, key=None, timeout=60):
        self.url = (url or os.environ.get("PLATFORM_URL") or "http://127.0.0.1:8080").rstrip("/")
        self.key = key or os.environ.get("PLATFORM_API_KEY")
        if not self.key:
            raise ValueError("An API key is needed: pass key= or set PLATFORM_API_KEY.")
        self.timeout = timeout

    def request(self, method, path, body=None, data=None, content_type=None):
        """One call; JSON in and out. A 4xx or 5xx raises PlatformError with the problem."""
        headers = {"Authorization": f"Bearer {self.key}", "Accept": "application/json"}
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            content_type = "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = response.read()
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", "replace")
            try:
                problem = json.loads(text)
            except ValueError:
                problem = {"detail": text}
            raise PlatformError(error.code, problem) from None
        return json.loads(payload) if payload else None

    def create_experiment(self, name, description=None):
        """The experiment, created now or already yours (another key's name raises PlatformError 409)."""
        try:
            return self.request("POST", "/api/experiments", {"name": name, "description": description})
        except PlatformError as error:
            if error.status != 409:
                raise
            experiment = self.request("GET", "/api/experiments/" + urllib.parse.quote(name))
            mine = self.request("GET", "/api/keys/me")
            if (experiment.get("owner") or {}).get("id") != mine.get("id"):
                raise
            return experiment

    def start_run(self, name, experiment=None, params=None, tags=None):
        """A new run, Training until it is ended; use it in a with block to end it either way."""
        body = {"external": True, "name": name}
        if experiment is not None:
            body["experiment"] = experiment
        if params:
            body["params"] = params
        if tags:
            body["tags"] = tags
        return Run(self, self.request("POST", "/api/runs", body))

    def search_runs(self, filter="", order_by="", limit=100):
        """Runs matching an MLflow-style filter, e.g. 'metrics.val_loss < 1.9 and tags.team = "nlp"'."""
        query = urllib.parse.urlencode({"filter": filter, "order_by": order_by, "limit": limit})
        return self.request("GET", "/api/runs/search?" + query)["items"]


class Run:
    """One run of your script: parameters, metrics, tags and files go to the platform under its id."""

    BATCH = 500

    def __init__(self, client, run):
        self.client = client
        self.info = run
        self.id = run["id"]
        self._points = []

    def _path(self, suffix):
        return f"/api/runs/{self.id}/{suffix}"

    def log_params(self, params):
        """Each parameter is set once; logging another value for one raises PlatformError (400, naming it)."""
        self.info = self.client.request("POST", self._path("params"), {"params": params})

    def log_param(self, key, value):
        self.log_params({key: value})

    def log_metric(self, key, value, step):
        """Buffered: points go in batches, and all of them when the run ends or flush() is called."""
        self._points.append({"key": key, "value": float(value), "step": int(step)})
        if len(self._points) >= self.BATCH:
            self.flush()

    def log_metrics(self, metrics, step):
        for key, value in metrics.items():
            self.log_metric(key, value, step)

    def flush(self):
        while self._points:
            batch, self._points = self._points[:self.BATCH], self._points[self.BATCH:]
            self.info = self.client.request("POST", self._path("metrics"), {"metrics": batch})

    def set_tags(self, tags):
        """Tags are key -> value; setting a key again replaces its value."""
        self.info = self.client.request("POST", self._path("tags"), {"tags": tags})

    def set_tag(self, key, value):
        self.set_tags({key: value})

    def log_artifact(self, local_path, artifact_path=None):
        """Uploads a file under the run (its own name, or artifact_path such as 'plots/loss.png')."""
        name = artifact_path or os.path.basename(local_path)
        with open(local_path, "rb") as file:
            data = file.read()
        return self.client.request("PUT", self._path("artifacts/" + urllib.parse.quote(name)), data=data,
                                   content_type="application/octet-stream")

    def artifacts(self):
        return self.client.request("GET", self._path("artifacts"))

    def register_model(self, model, weights, tokenizer, config=None):
        """The next version of `model`, from this run's uploaded safetensors and tokenizer.json."""
        self.flush()
        return self.client.request("POST", self._path("register"),
                                   {"model": model, "weights": weights, "tokenizer": tokenizer, "config": config})

    def end(self, state="Completed", reason=None):
        """Completed, Failed (with a reason) or Cancelled; the run takes no more logging after."""
        self.flush()
        self.info = self.client.request("POST", self._path("end"), {"state": state, "reason": reason})
        return self.info

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if error is None:
            self.end("Completed")
        else:
            try:
                self.end("Failed", f"{kind.__name__}: {error}"[:4000])
            except Exception:  # the script's own error is the one to see
                pass
        return False


def save_safetensors(path, tensors, metadata=None):
    """Writes {name: (shape, flat list of floats)} as F32 safetensors, without the safetensors package."""
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        shape, values = tensors[name]
        count = 1
        for size in shape:
            count *= size
        if count != len(values):
            raise ValueError(f"{name}: shape {shape} holds {count} values, not {len(values)}")
        blob = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    if metadata:
        header["__metadata__"] = {key: str(value) for key, value in metadata.items()}
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as file:
        file.write(struct.pack("<Q", len(encoded)))
        file.write(encoded)
        for blob in blobs:
            file.write(blob)
