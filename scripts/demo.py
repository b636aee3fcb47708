"""Run Home Assistant with Energy Gateway and simulated meters, set up as a user would.

Started by `scripts/demo`, which prepares the virtual environment first. Steps: serve the
simulated meters, start Home Assistant on a throw-away configuration, onboard a demo user
through the REST API, add every meter through the config flow, point the Energy dashboard
at the meters' registers, then keep running until Ctrl-C. `--check` verifies that the
entities update and exits instead.

`--requirements` prints the packages Home Assistant loads for this configuration (read from
the integrations' manifests), so `scripts/demo` can install them before the first start.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
from collections.abc import Iterable, Mapping
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import importlib.util
import json
import logging
import math
from pathlib import Path
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import time
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "scripts" / "lib")]

from demo_meters import DemoMeter, demo_meters  # noqa: E402 - needs the paths above

DOMAIN = "energy_gateway"
# What the demo configures on top of the integrations Home Assistant always loads.
CONFIGURED_DOMAINS = ("frontend", "config", "energy", "history", "logbook", "recorder", "logger")
USERNAME = "demo"
HISTORY_HOURS = 7 * 24
# Onboarding sets these up for every new installation. They need the internet and only fill
# the demo's log with their errors, so the demo removes them again (their packages are still
# installed beforehand: Home Assistant would otherwise install them while starting).
ONBOARDING_EXTRAS = ("google_translate", "met", "radio_browser", "shopping_list")
STARTUP_TIMEOUT = 300.0
FLOW_TIMEOUT = 90.0  # the integration listens up to 20 s per try, 12 s per serial mode

CONFIGURATION_YAML = """\
homeassistant:
  name: Energy Gateway demo
  latitude: 50.8467
  longitude: 4.3525
  elevation: 60
  unit_system: metric
  time_zone: Europe/Brussels
  currency: EUR
  country: BE
http:
  server_host: {host}
  server_port: {port}
frontend:
config:
energy:
history:
logbook:
recorder:
  commit_interval: 2
logger:
  default: warning
  logs:
    custom_components.energy_gateway: debug
    homeassistant.setup: info
"""

_LOGGER = logging.getLogger("demo")


class DemoError(Exception):
    """Something the demo could not do; the message says what and why."""


# -- requirements ----------------------------------------------------------------------------


def requirements() -> list[str]:
    """Packages of every integration Home Assistant will load for the demo configuration."""
    spec = importlib.util.find_spec("homeassistant")
    if spec is None or not spec.submodule_search_locations:
        raise DemoError("Home Assistant is not installed in this environment")
    package = Path(next(iter(spec.submodule_search_locations)))
    loaded = _bootstrap_domains(package / "bootstrap.py")
    manifests = {DOMAIN: REPO / "custom_components" / DOMAIN / "manifest.json"}
    todo = [*loaded, *CONFIGURED_DOMAINS, *ONBOARDING_EXTRAS, DOMAIN]
    seen: set[str] = set()
    # Multi-factor authentication modules install their packages at start-up too.
    found = {
        requirement
        for path in sorted((package / "auth" / "mfa_modules").glob("*.py"))
        for requirement in _module_list(path, "REQUIREMENTS")
    }
    while todo:
        domain = todo.pop()
        if domain in seen:
            continue
        seen.add(domain)
        path = manifests.get(domain, package / "components" / domain / "manifest.json")
        if not path.exists():
            continue
        manifest = json.loads(path.read_text())
        found.update(manifest.get("requirements", []))
        todo.extend(manifest.get("dependencies", []))
    return sorted(found, key=str.lower)


def _bootstrap_domains(path: Path) -> set[str]:
    """The integrations bootstrap always sets up, read from its source (importing is slow)."""
    domains = {
        *_module_list(path, "CORE_INTEGRATIONS"),
        *_module_list(path, "DEFAULT_INTEGRATIONS"),
    }
    if not domains:
        raise DemoError(f"Could not read the default integrations from {path}")
    return domains


def _module_list(path: Path, name: str) -> list[str]:
    """The literal list or set a module assigns to `name` at top level, [] when it has none."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id == name:
            return sorted(ast.literal_eval(value))
    return []


# -- Home Assistant over HTTP ----------------------------------------------------------------


@dataclass
class Session:
    """A logged-in connection to the demo's Home Assistant."""

    base: str
    token: str
    http: aiohttp.ClientSession

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def delete(self, path: str) -> None:
        async with self.http.delete(self.base + path, headers=self.headers) as response:
            if response.status != 200:
                raise DemoError(f"DELETE {path}: HTTP {response.status}: {await response.text()}")

    async def get(self, path: str) -> Any:
        async with self.http.get(self.base + path, headers=self.headers) as response:
            if response.status != 200:
                raise DemoError(f"GET {path}: HTTP {response.status}: {await response.text()}")
            return await response.json()

    async def post(self, path: str, payload: Mapping[str, Any], wait: float = 30.0) -> Any:
        async with self.http.post(
            self.base + path,
            json=payload,
            headers=self.headers,
            timeout=aiohttp.ClientTimeout(total=wait),
        ) as response:
            text = await response.text()
            if response.status != 200:
                raise DemoError(
                    f"POST {path} {json.dumps(payload)}: HTTP {response.status}: {text}"
                )
            return json.loads(text) if text else None


class WebSocket:
    """Home Assistant's websocket API, one command at a time."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self._next_id = 1

    @classmethod
    async def open(cls, session: Session) -> WebSocket:
        url = session.base.replace("http", "ws", 1) + "/api/websocket"
        connection = await session.http.ws_connect(url)
        hello = await connection.receive_json()
        if hello.get("type") != "auth_required":
            raise DemoError(f"Unexpected websocket greeting: {hello}")
        await connection.send_json({"type": "auth", "access_token": session.token})
        answer = await connection.receive_json()
        if answer.get("type") != "auth_ok":
            raise DemoError(f"Websocket authentication failed: {answer}")
        return cls(connection)

    async def call(self, command: str, **data: Any) -> Any:
        message_id = self._next_id
        self._next_id += 1
        await self._connection.send_json({"id": message_id, "type": command, **data})
        while True:
            answer = await self._connection.receive_json()
            if answer.get("id") == message_id and answer.get("type") == "result":
                break
        if not answer.get("success"):
            raise DemoError(f"Websocket {command} failed: {answer.get('error')}")
        return answer.get("result")

    async def close(self) -> None:
        await self._connection.close()


# -- the demo --------------------------------------------------------------------------------


@dataclass
class AddedMeter:
    """A demo meter as Home Assistant knows it after the config flow."""

    meter: DemoMeter
    entry_id: str
    title: str
    entities: dict[str, str]
    """Entity key (OBIS code or computed key) -> entity id, enabled entities only."""


class Demo:
    """Everything the demo started, so it can all be stopped again."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.port: int = args.port
        api_host = "127.0.0.1" if args.listen in ("0.0.0.0", "::") else args.listen
        self.base = f"http://{api_host}:{self.port}"
        self.config_dir = Path(tempfile.mkdtemp(prefix="energy-gateway-demo-"))
        self.password = secrets.token_urlsafe(9)
        self.process: asyncio.subprocess.Process | None = None
        self.meters: list[DemoMeter] = []
        self.added: list[AddedMeter] = []

    @property
    def log_file(self) -> Path:
        return self.config_dir / "home-assistant.log"

    # -- set-up ----------------------------------------------------------------------------

    def write_config(self) -> None:
        (self.config_dir / "configuration.yaml").write_text(
            CONFIGURATION_YAML.format(host=self.args.listen, port=self.port)
        )
        custom = self.config_dir / "custom_components"
        custom.mkdir()
        (custom / DOMAIN).symlink_to(REPO / "custom_components" / DOMAIN)

    async def start_meters(self) -> None:
        self.meters = demo_meters()
        for meter in self.meters:
            await meter.start()
            say(f"Simulated meter {meter.meter_id} ({meter.name}) on {meter.where}")
            if meter.key_text is not None:
                say(f"  its key: {meter.key_text}")

    async def start_home_assistant(self) -> None:
        hass = Path(sys.executable).parent / "hass"
        output = (self.config_dir / "hass-output.txt").open("wb")
        # A session of its own: Ctrl-C reaches the demo, which then stops Home Assistant in order.
        self.process = await asyncio.create_subprocess_exec(
            str(hass),
            "--config",
            str(self.config_dir),
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        output.close()
        say(f"Home Assistant starting (pid {self.process.pid}, config {self.config_dir})")

    async def wait_for_api(self, http: aiohttp.ClientSession) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            self.ensure_running()
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with http.get(
                    self.base + "/api/onboarding", timeout=aiohttp.ClientTimeout(total=5)
                ) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(1)
        raise DemoError(
            f"Home Assistant did not answer on {self.base} within {STARTUP_TIMEOUT:g} s"
        )

    async def onboard(self, http: aiohttp.ClientSession) -> Session:
        """Create the demo user, log in and finish the remaining onboarding steps."""
        client_id = f"http://localhost:{self.port}/"
        async with http.post(
            self.base + "/api/onboarding/users",
            json={
                "client_id": client_id,
                "name": "Demo",
                "username": USERNAME,
                "password": self.password,
                "language": "en",
            },
        ) as response:
            if response.status != 200:
                raise DemoError(
                    f"Onboarding the user failed: HTTP {response.status}: {await response.text()}"
                )
            code = (await response.json())["auth_code"]
        async with http.post(
            self.base + "/auth/token",
            data={"grant_type": "authorization_code", "code": code, "client_id": client_id},
        ) as response:
            if response.status != 200:
                raise DemoError(
                    f"Logging in failed: HTTP {response.status}: {await response.text()}"
                )
            token = (await response.json())["access_token"]
        session = Session(self.base, token, http)
        await session.post("/api/onboarding/core_config", {})
        await session.post("/api/onboarding/analytics", {})
        await session.post(
            "/api/onboarding/integration", {"client_id": client_id, "redirect_uri": client_id}
        )
        return session

    async def add_meter(self, session: Session, meter: DemoMeter) -> AddedMeter:
        """Add one meter through the config flow, exactly as the UI would."""
        result = await session.post("/api/config/config_entries/flow", {"handler": DOMAIN})
        for step in meter.flow_steps():
            if result.get("type") not in ("menu", "form") or result.get("step_id") != step.step_id:
                raise DemoError(
                    f"Adding {meter.meter_id}: expected step {step.step_id!r}, "
                    f"Home Assistant answered {json.dumps(result)}"
                )
            if result.get("errors"):
                raise DemoError(f"Adding {meter.meter_id}: errors {json.dumps(result)}")
            _LOGGER.debug("flow %s: %s -> %s", result["flow_id"], step.step_id, step.answer)
            result = await session.post(
                f"/api/config/config_entries/flow/{result['flow_id']}",
                step.answer,
                wait=FLOW_TIMEOUT,
            )
            result = await self.through_progress(session, result)
            if result.get("type") == "form" and result.get("errors"):
                raise DemoError(
                    f"Adding {meter.meter_id}: step {step.step_id!r} with {step.answer} "
                    f"was refused: {json.dumps(result)}"
                )
        if result.get("type") != "create_entry":
            raise DemoError(f"Adding {meter.meter_id}: the flow ended with {json.dumps(result)}")
        entry = result["result"]
        say(f"Added {entry['title']} ({meter.where})")
        return AddedMeter(meter, entry["entry_id"], entry["title"], {})

    @staticmethod
    async def through_progress(session: Session, result: dict[str, Any]) -> dict[str, Any]:
        """Wait out a progress step (the Modbus scan), as the dialog does: the flow moves
        on by itself when the work is done, and asking for it shows the next step."""
        deadline = time.monotonic() + FLOW_TIMEOUT
        while result.get("type") in ("progress", "progress_done"):
            if time.monotonic() > deadline:
                raise DemoError(
                    f"Step {result.get('step_id')!r} still busy after {FLOW_TIMEOUT:g} s"
                )
            await asyncio.sleep(0.5)
            result = await session.get(f"/api/config/config_entries/flow/{result['flow_id']}")
        return result

    async def wait_until_loaded(self, session: Session) -> None:
        deadline = time.monotonic() + 60
        while True:
            entries = await session.get(f"/api/config/config_entries/entry?domain={DOMAIN}")
            states = {entry["entry_id"]: entry["state"] for entry in entries}
            pending = [added for added in self.added if states.get(added.entry_id) != "loaded"]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise DemoError(
                    "Entries not loaded after 60 s: "
                    + ", ".join(f"{a.title}: {states.get(a.entry_id)}" for a in pending)
                )
            await asyncio.sleep(1)

    async def map_entities(self, ws: WebSocket) -> None:
        """Find each meter's entity ids through the entity registry (by unique id)."""
        registry = await ws.call("config/entity_registry/list")
        for added in self.added:
            prefix = f"{added.meter.meter_id}_"
            added.entities = {
                entry["unique_id"].removeprefix(prefix): entry["entity_id"]
                for entry in registry
                if entry["platform"] == DOMAIN
                and entry["config_entry_id"] == added.entry_id
                and entry["unique_id"].startswith(prefix)
                and entry["disabled_by"] is None
            }

    async def set_energy_preferences(self, ws: WebSocket) -> dict[str, Any]:
        """Point the Energy dashboard at the meters' import/export, gas and water registers."""
        flow_from: list[dict[str, Any]] = []
        flow_to: list[dict[str, Any]] = []
        sources: list[dict[str, Any]] = []
        missing: list[str] = []

        def entities(added: AddedMeter, keys: Iterable[str]) -> list[str]:
            found = []
            for key in keys:
                if key in added.entities:
                    found.append(added.entities[key])
                else:
                    missing.append(f"{added.meter.meter_id} {key}")
            return found

        for added in self.added:
            roles = added.meter.energy
            flow_from += [
                {
                    "stat_energy_from": entity,
                    "stat_cost": None,
                    "entity_energy_price": None,
                    "number_energy_price": None,
                }
                for entity in entities(added, roles.grid_import)
            ]
            flow_to += [
                {
                    "stat_energy_to": entity,
                    "stat_compensation": None,
                    "entity_energy_price": None,
                    "number_energy_price": None,
                }
                for entity in entities(added, roles.grid_export)
            ]
            sources += [
                {
                    "type": "gas",
                    "stat_energy_from": entity,
                    "stat_cost": None,
                    "entity_energy_price": None,
                    "number_energy_price": None,
                }
                for entity in entities(added, roles.gas)
            ]
            sources += [
                {
                    "type": "water",
                    "stat_energy_from": entity,
                    "stat_cost": None,
                    "entity_energy_price": None,
                    "number_energy_price": None,
                }
                for entity in entities(added, roles.water)
            ]
        if missing:
            raise DemoError("No enabled entity for: " + ", ".join(missing))
        grid = {
            "type": "grid",
            "flow_from": flow_from,
            "flow_to": flow_to,
            "cost_adjustment_day": 0,
        }
        await ws.call("energy/save_prefs", energy_sources=[grid, *sources], device_consumption=[])
        prefs: dict[str, Any] = await ws.call("energy/get_prefs")
        return prefs

    async def import_history(self, ws: WebSocket, session: Session) -> None:
        """Give the Energy dashboard the week before the demo started, replayed by the meters.

        Home Assistant compiles hourly statistics only when an hour is over; without a past,
        the dashboard would stay empty until then.
        """
        states = await self.live_states(session)
        for added in self.added:
            roles = added.meter.energy
            keys = (*roles.grid_import, *roles.grid_export, *roles.gas, *roles.water)
            history = await asyncio.to_thread(added.meter.history, keys, HISTORY_HOURS)
            for key, rows in history.items():
                entity = added.entities.get(key)
                state = states.get(entity) if entity else None
                if entity is None or state is None or not rows:
                    continue
                unit = state["attributes"].get("unit_of_measurement")
                # The meter counts in its own unit (Wh for DLMS meters); the entity may show
                # another (kWh), and statistics must be in the entity's.
                factor = _unit_factor(added.meter.units().get(key), unit) or 1.0
                await ws.call(
                    "recorder/import_statistics",
                    metadata={
                        "has_mean": False,
                        "has_sum": True,
                        "name": None,
                        "source": "recorder",
                        "statistic_id": entity,
                        "unit_of_measurement": unit,
                    },
                    stats=[
                        {
                            "start": row.start.isoformat(),
                            "state": round(row.state * factor, 6),
                            "sum": round(row.sum * factor, 6),
                        }
                        for row in rows
                    ],
                )
        say(f"Energy history of the last {HISTORY_HOURS // 24} days imported")

    async def remove_onboarding_extras(self, session: Session) -> None:
        """Remove the integrations onboarding added (created in the background, so wait a bit)."""
        deadline = time.monotonic() + 10
        removed: set[str] = set()
        while len(removed) < len(ONBOARDING_EXTRAS) and time.monotonic() < deadline:
            for entry in await session.get("/api/config/config_entries/entry"):
                if entry["domain"] in ONBOARDING_EXTRAS and entry["entry_id"] not in removed:
                    await session.delete(f"/api/config/config_entries/entry/{entry['entry_id']}")
                    removed.add(entry["entry_id"])
            await asyncio.sleep(0.5)

    # -- checks ----------------------------------------------------------------------------

    async def live_states(self, session: Session) -> dict[str, dict[str, Any]]:
        states = await session.get("/api/states")
        return {state["entity_id"]: state for state in states}

    async def check(self, session: Session, prefs: Mapping[str, Any]) -> None:
        """Every meter's live entities are numeric and change; counters match the simulator."""
        first: dict[str, float] = {}
        deadline = time.monotonic() + 60
        while True:
            states = await self.live_states(session)
            first = {
                entity: value
                for added in self.added
                for key in added.meter.live_keys
                if (entity := added.entities.get(key))
                and (value := _number(states.get(entity))) is not None
            }
            waiting = [
                added.title
                for added in self.added
                if not any(added.entities.get(key) in first for key in added.meter.live_keys)
            ]
            if not waiting:
                break
            if time.monotonic() > deadline:
                raise DemoError("No numeric live state after 60 s for: " + ", ".join(waiting))
            await asyncio.sleep(1)
        changed: dict[str, set[str]] = {added.entry_id: set() for added in self.added}
        for _ in range(3):
            await asyncio.sleep(10)
            states = await self.live_states(session)
            for added in self.added:
                for key in added.meter.live_keys:
                    entity = added.entities.get(key)
                    value = _number(states.get(entity)) if entity else None
                    if entity in first and value is not None and value != first[entity]:
                        changed[added.entry_id].add(key)
            if all(changed.values()):
                break
        still = [added.title for added in self.added if not changed[added.entry_id]]
        if still:
            raise DemoError("States did not change within 30 s for: " + ", ".join(still))

        say("")
        say("Check passed. What Home Assistant shows (REST API /api/states):")
        for added in self.added:
            reported = added.meter.reported()
            units = added.meter.units()
            say(f"  {added.title}  [{added.meter.where}]  {len(added.entities)} enabled entities")
            if added.meter.key_text is not None:
                say(f"    key (typed into the key step): {added.meter.key_text}")
            say(f"    changed within 10-30 s: {', '.join(sorted(changed[added.entry_id]))}")
            for key in _SUMMARY_KEYS:
                entity = added.entities.get(key)
                if entity is None or entity not in states:
                    continue
                state = states[entity]
                unit = state["attributes"].get("unit_of_measurement") or ""
                sim = reported.get(key)
                note = ""
                if isinstance(sim, (int, float)):
                    factor = _unit_factor(units.get(key), unit)
                    shown = sim if factor in (None, 1.0) else round(sim * factor, 6)
                    note = f"   (simulator now: {shown})"
                say(f"    {entity:<68} {state['state']:>12} {unit}{note}")
            _check_counter(added, states, reported)
        grid = next(s for s in prefs["energy_sources"] if s["type"] == "grid")
        say(
            f"  Energy dashboard: {len(grid['flow_from'])} import and {len(grid['flow_to'])} "
            f"export registers, {sum(s['type'] == 'gas' for s in prefs['energy_sources'])} gas, "
            f"{sum(s['type'] == 'water' for s in prefs['energy_sources'])} water"
        )
        if not self.args.no_history:
            await self._summarise_history(session)
        problems = _log_problems(self.log_file)
        say(f"  Home Assistant log: {len(problems)} warning/error line(s) about {DOMAIN}")
        for line in problems[:20]:
            say(f"    {line}")

    async def _summarise_history(self, session: Session) -> None:
        """Read back what the Energy dashboard will show for the last 24 hours."""
        ws = await WebSocket.open(session)
        try:
            for added in self.added:
                ids = [added.entities[key] for key in added.meter.energy.grid_import]
                ids += [added.entities[key] for key in added.meter.energy.grid_export]
                if not ids:
                    continue  # not on the grid's dashboard (the Modbus fleet, the MEP meter)
                start = datetime.now(UTC) - timedelta(hours=24)
                result = await ws.call(
                    "recorder/statistics_during_period",
                    start_time=start.isoformat(),
                    statistic_ids=ids,
                    period="hour",
                    types=["change"],
                )
                parts = []
                for entity in ids:
                    rows = result.get(entity, [])
                    total = sum(row.get("change") or 0.0 for row in rows)
                    parts.append(f"{entity:<68} {len(rows):>3} h {total:>9.3f} kWh")
                    if not rows:
                        raise DemoError(f"No hourly statistics for {entity} after the import")
                say(f"  {added.title}: hourly statistics of the last 24 h (Energy dashboard data):")
                for part in parts:
                    say(f"    {part}")
        finally:
            await ws.close()

    # -- running and stopping --------------------------------------------------------------

    def ensure_running(self) -> None:
        if self.process is not None and self.process.returncode is not None:
            raise DemoError(
                f"Home Assistant exited with code {self.process.returncode}.\n"
                + _tail(self.log_file)
                + _tail(self.config_dir / "hass-output.txt")
            )

    async def stop(self) -> None:
        process = self.process
        if process is not None and process.returncode is None:
            say("Stopping Home Assistant ...")
            process.terminate()
            try:
                async with asyncio.timeout(60):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        for meter in self.meters:
            with contextlib.suppress(Exception):
                await meter.stop()
        if self.args.keep_config:
            say(f"Configuration kept in {self.config_dir}")
        else:
            shutil.rmtree(self.config_dir, ignore_errors=True)


_SUMMARY_KEYS = (
    "0-0:96.1.0",
    "1-0:1.7.0",
    "1-0:2.7.0",
    "1-0:3.7.0",
    "1-0:1.8.0",
    "1-0:2.8.0",
    "1-0:3.8.0",
    "1-0:1.8.1",
    "1-0:1.8.2",
    "1-0:2.8.1",
    "1-0:2.8.2",
    "1-0:32.7.0",
    "1-0:52.7.0",
    "1-0:72.7.0",
    "1-0:31.7.0",
    "1-0:13.7.0",
    "0-0:96.14.0",
    "1-0:1.4.0",
    "1-0:1.6.0",
    "capacity_current_quarter",
    "capacity_month_peak",
    "capacity_billing_mean",
    "0-1:24.2.3",
    "0-2:24.2.1",
)


def _number(state: Mapping[str, Any] | None) -> float | None:
    if state is None:
        return None
    try:
        value = float(state["state"])
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


# Energy units, in kWh.
_ENERGY_UNITS = {"Wh": 0.001, "kWh": 1.0, "MWh": 1000.0}


def _unit_factor(unit: str | None, target: str | None) -> float | None:
    """What a value in `unit` is multiplied by to be in `target`; None if unknown."""
    if unit == target:
        return 1.0
    if unit in _ENERGY_UNITS and target in _ENERGY_UNITS:
        return _ENERGY_UNITS[unit] / _ENERGY_UNITS[target]
    return None


def _check_counter(
    added: AddedMeter, states: Mapping[str, Any], reported: Mapping[str, Any]
) -> None:
    """The import register in Home Assistant is the one the simulator sent (give or take a tick)."""
    key = next((k for k in ("1-0:1.8.1", "1-0:1.8.2", "1-0:1.8.0") if k in added.entities), None)
    if key is None:
        return
    entity = added.entities[key]
    shown, sent = _number(states.get(entity)), reported.get(key)
    unit = states[entity]["attributes"].get("unit_of_measurement")
    factor = _unit_factor(added.meter.units().get(key), "kWh")
    shown_factor = _unit_factor(unit, "kWh")
    if shown is None or not isinstance(sent, float) or factor is None or shown_factor is None:
        return
    shown_kwh, sent_kwh = shown * shown_factor, sent * factor
    if abs(shown_kwh - sent_kwh) > 0.05:
        raise DemoError(f"{entity} shows {shown} {unit} but the simulator sent {sent_kwh} kWh")


def _log_problems(path: Path) -> list[str]:
    if not path.exists():
        return []
    lines = path.read_text(errors="replace").splitlines()
    return [
        line
        for line in lines
        if DOMAIN in line
        and (" WARNING " in line or " ERROR " in line or " CRITICAL " in line)
        # Said of every custom integration at start-up.
        and "has not been tested by Home Assistant" not in line
    ]


def _tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return ""
    text = path.read_text(errors="replace").splitlines()[-lines:]
    return f"--- last lines of {path.name} ---\n" + "\n".join(text) + "\n"


def _port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def say(text: str) -> None:
    print(text, flush=True)


async def run(args: argparse.Namespace) -> int:
    demo = Demo(args)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        if _port_in_use(demo.port):
            raise DemoError(
                f"Port {demo.port} is already in use (another Home Assistant?); "
                "stop it or pass --port"
            )
        demo.write_config()
        await demo.start_meters()
        await demo.start_home_assistant()
        async with aiohttp.ClientSession() as http:
            setup = asyncio.create_task(_set_up(demo, http))
            stopper = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait({setup, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if stopper in done:
                setup.cancel()
                with contextlib.suppress(asyncio.CancelledError, DemoError):
                    await setup
                return 130
            stopper.cancel()
            session, prefs = setup.result()
            if args.check:
                await demo.check(session, prefs)
                return 0
            _announce(demo)
            while not stop.is_set():
                demo.ensure_running()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(2):
                        await stop.wait()
            return 0
    except DemoError as err:
        say(f"\nDEMO FAILED: {err}")
        if demo.process is not None and demo.process.returncode is None:
            say(_tail(demo.log_file, 60))
        return 1
    finally:
        await demo.stop()


async def _set_up(demo: Demo, http: aiohttp.ClientSession) -> tuple[Session, dict[str, Any]]:
    await demo.wait_for_api(http)
    say("Home Assistant is up; onboarding the demo user")
    session = await demo.onboard(http)
    for meter in demo.meters:
        demo.added.append(await demo.add_meter(session, meter))
    await demo.wait_until_loaded(session)
    await demo.remove_onboarding_extras(session)
    ws = await WebSocket.open(session)
    try:
        await demo.map_entities(ws)
        prefs = await demo.set_energy_preferences(ws)
        say("Energy dashboard configured")
        if not demo.args.no_history:
            await demo.import_history(ws, session)
    finally:
        await ws.close()
    return session, prefs


def _announce(demo: Demo) -> None:
    host = "localhost" if demo.args.listen in ("127.0.0.1", "0.0.0.0") else demo.args.listen
    say("")
    say("Energy Gateway demo is running.")
    say(f"  Open       http://{host}:{demo.port}")
    say(f"  User name  {USERNAME}")
    say(f"  Password   {demo.password}")
    history = "" if demo.args.no_history else "the past week is replayed; "
    say(f"  Energy     http://{host}:{demo.port}/energy ({history}each hour shows once it ends)")
    say(f"  Log        {demo.log_file}")
    say("  Meters")
    for meter in demo.meters:
        say(f"    {meter.name}: {meter.where}")
        if meter.key_text is not None:
            say(f"      key {meter.key_text}")
    if any(meter.key_text is not None for meter in demo.meters):
        say(
            "  To add an encrypted meter yourself: Settings > Devices & services > Add integration"
            " > Energy Gateway, pick its kind and connection, enter the address above and then"
            " the key (delete the demo's entry for that meter first, or it is already configured)."
        )
    say("Press Ctrl-C to stop.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="verify the set-up, then exit")
    parser.add_argument("--port", type=int, default=8123, help="Home Assistant's port")
    parser.add_argument(
        "--listen", default="127.0.0.1", help="address Home Assistant listens on (0.0.0.0: all)"
    )
    parser.add_argument(
        "--keep-config", action="store_true", help="keep the configuration directory"
    )
    parser.add_argument(
        "--no-history",
        action="store_true",
        help="do not import the meters' past week into the Energy dashboard",
    )
    parser.add_argument("--requirements", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--verbose", action="store_true", help="log the demo's own steps")
    args = parser.parse_args()
    if args.requirements:
        print(" ".join(requirements()))
        return 0
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
