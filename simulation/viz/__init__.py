"""The browser app (Solara) for classes and workshops.

``controller`` holds one run and everything the page shows of it, without a browser;
``svg`` draws that data as small SVG pictures; ``page`` is the Solara page; ``server``
starts it on the loopback interface, offline.
"""
