// The public resource map: draws the listed facilities on a Leaflet map (the
// markers come from the public JSON API, as the data-markers attribute says)
// and fills the search form's point from a tap on the map or the browser's
// location. The page works without this script: the list and its form are
// plain HTML. No inline handlers or styles (the CSP forbids them).
(() => {
  'use strict';
  const form = document.getElementById('filters');
  const lat = document.getElementById('lat');
  const lng = document.getElementById('lng');

  /** Sorts the list by distance from a point: fills the form's point and sends it. */
  function searchNear(latitude, longitude) {
    if (!form || !lat || !lng) return;
    lat.value = latitude.toFixed(6);
    lng.value = longitude.toFixed(6);
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }

  const locate = document.getElementById('locate');
  if (locate && form && 'geolocation' in navigator) {
    const status = document.getElementById('locate-status');
    const say = (text) => { if (status) status.textContent = text || ''; };
    locate.hidden = false;
    locate.addEventListener('click', () => {
      locate.disabled = true;
      say(locate.dataset.locating);
      navigator.geolocation.getCurrentPosition(
        (pos) => searchNear(pos.coords.latitude, pos.coords.longitude),
        () => { locate.disabled = false; say(locate.dataset.failed); },
        { enableHighAccuracy: false, timeout: 15000, maximumAge: 60000 },
      );
    });
  }

  const el = document.getElementById('map');
  if (!el || typeof L === 'undefined') return;
  const d = el.dataset;
  const section = document.getElementById('map-section');
  if (section) section.hidden = false;
  const status = document.getElementById('map-status');
  const say = (text) => { if (status) status.textContent = text || ''; };

  const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const map = L.map(el, { scrollWheelZoom: false });
  const credit = d.attributionUrl
    ? `<a href="${escape(d.attributionUrl)}" rel="noopener">${escape(d.attribution || '')}</a>`
    : escape(d.attribution || '');
  L.tileLayer(d.tiles, { attribution: credit, maxZoom: Number(d.maxZoom) || 18 }).addTo(map);

  // A facility's page: one marker.
  if (d.single) {
    const point = [Number(d.lat), Number(d.lng)];
    map.setView(point, 16);
    L.marker(point, { title: d.name, alt: d.name, keyboard: false }).addTo(map);
    return;
  }

  const here = d.lat && d.lng ? [Number(d.lat), Number(d.lng)] : null;
  if (here) {
    map.setView(here, 15);
    L.circleMarker(here, { radius: 9, color: '#b3261e', weight: 3, fillOpacity: 0.3 })
      .addTo(map)
      .bindTooltip(d.textHere || '', { permanent: false });
  } else {
    map.setView([36.2, 138.25], 5);
  }

  /** The popup of a marker, built from text nodes (names are data, never HTML). */
  function popup(f) {
    const box = document.createElement('div');
    box.className = 'map-popup';
    const name = document.createElement('a');
    name.href = f.url;
    name.textContent = f.name;
    name.className = 'popup-name';
    const kind = document.createElement('div');
    kind.textContent = f.kind_label;
    box.append(name, kind);
    if (f.phone) {
      const tel = document.createElement('a');
      tel.href = `tel:${f.phone.normalize('NFKC').replace(/[^0-9+]/g, '')}`;
      tel.textContent = `${d.textCall}: ${f.phone}`;
      tel.className = 'tel';
      box.append(tel);
    }
    return box;
  }

  const cluster = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40 });
  map.addLayer(cluster);
  say(d.textLoading);
  fetch(d.markers, { headers: { Accept: 'application/json' } })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))))
    .then((data) => {
      const points = [];
      for (const f of data.facilities || []) {
        if (typeof f.latitude !== 'number' || typeof f.longitude !== 'number') continue;
        const marker = L.marker([f.latitude, f.longitude], { title: f.name, alt: f.name });
        marker.bindPopup(() => popup(f));
        cluster.addLayer(marker);
        points.push([f.latitude, f.longitude]);
      }
      if (!here && points.length) map.fitBounds(points, { padding: [24, 24], maxZoom: 16 });
      el.dataset.loaded = String(points.length);
      say('');
    })
    .catch(() => say(d.textFailed));

  // A tap on the map offers to search near that point.
  map.on('click', (e) => {
    const box = document.createElement('div');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'search-here';
    button.textContent = d.textSearchHere;
    button.addEventListener('click', () => searchNear(e.latlng.lat, e.latlng.lng));
    box.append(button);
    L.popup().setLatLng(e.latlng).setContent(box).openOn(map);
  });
})();
