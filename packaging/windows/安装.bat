@echo off
chcp 65001 >nul
rem ---------------------------------------------------------------------------
rem xltool @VERSION@ 离线安装：不联网、不需要管理员权限。
rem 装到 %LOCALAPPDATA%\xltool\venv，在桌面放“政务公开年报工具.bat”。
rem 本文件是 UTF-8（无 BOM）、CRLF 换行：上面第二行 chcp 65001 让 cmd 按 UTF-8
rem 读取后面的中文，所以 chcp 之前只能有英文。用记事本修改后直接保存即可。
rem ---------------------------------------------------------------------------
setlocal
title xltool 离线安装
cd /d "%~dp0"

set "WHEELS=%~dp0wheels"
if not defined LOCALAPPDATA set "LOCALAPPDATA=%USERPROFILE%\AppData\Local"
set "VENV=%LOCALAPPDATA%\xltool\venv"
rem 不读这台电脑上的 pip 配置（镜像、代理等），只用本文件夹里的安装包。
set "PIP_CONFIG_FILE=nul"
set "PIP_DISABLE_PIP_VERSION_CHECK=1"

if not exist "%WHEELS%\xltool-@VERSION@-py3-none-any.whl" goto :not_extracted

echo 正在查找 Python（需要 64 位 Python 3.10 至 3.13）……
set "PY="
for %%V in (3.13 3.12 3.11 3.10) do if not defined PY call :try_python py -%%V
if not defined PY call :try_python py -3
if not defined PY call :try_python python
if not defined PY goto :no_python
echo 使用：%PY%

echo.
echo 正在创建运行环境：%VENV%
rem 先由 cmd 建好文件夹：微软应用商店版的 Python 在 %LOCALAPPDATA% 里新建的文件夹会被
rem 重定向到它自己的私有目录，已经存在的文件夹则不会。
if not exist "%LOCALAPPDATA%\xltool" mkdir "%LOCALAPPDATA%\xltool"
%PY% -m venv --clear "%VENV%"
if errorlevel 1 goto :venv_failed

echo.
echo 正在安装 xltool @VERSION@（离线，大约一两分钟）……
"%VENV%\Scripts\python.exe" -m pip install --no-index --find-links "%WHEELS%" "xltool==@VERSION@"
if errorlevel 1 goto :pip_failed
"%VENV%\Scripts\xltool.exe" --help >nul
if errorlevel 1 goto :pip_failed

echo.
echo 正在桌面上创建启动文件……
"%VENV%\Scripts\python.exe" "%~dp0setup\make_launcher.py" "%~dp0setup\launcher.bat" "政务公开年报工具.bat"
if errorlevel 1 goto :launcher_failed

echo.
echo ==================================================================
echo  安装完成。双击桌面上的“政务公开年报工具”，在打开的窗口里输入命令，
echo  例如：xltool check 回收 --year 2025
echo  以后有新版本时，解压新的安装包，再双击其中的“安装.bat”即可。
echo ==================================================================
echo.
pause
exit /b 0

rem 试一个 Python 命令：版本在 3.10 至 3.13 之间且是 64 位时，记到 PY。
:try_python
%* -c "import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 13) and sys.maxsize > 2**32 else 1)" >nul 2>nul
if errorlevel 1 exit /b 1
set "PY=%*"
exit /b 0

:not_extracted
echo.
echo 找不到安装包文件夹 wheels。
echo 请先把压缩包“全部解压缩”（右键压缩包 → 全部解压缩），
echo 再双击解压出来的文件夹里的“安装.bat”。不要在压缩包里直接双击。
goto :failed

:no_python
echo.
echo 没有找到可用的 Python。需要 64 位的 Python 3.10、3.11、3.12 或 3.13。
echo 请安装 Python（安装时勾选 Add python.exe to PATH），然后重新双击“安装.bat”。
echo 已安装的 Python 是 3.14 或更新版本、或者是 32 位时，请另装一个 3.13（64 位）。
goto :failed

:venv_failed
echo.
echo 创建运行环境失败：%VENV%
echo 如果“政务公开年报工具”窗口还开着，请先全部关闭，再重新双击“安装.bat”。
goto :failed

:pip_failed
echo.
echo 安装 xltool 失败，请把本窗口的内容截图发给技术支持。
goto :failed

:launcher_failed
echo.
echo 没能在桌面上创建启动文件。xltool 已经装好，可以手工把
echo   %~dp0setup\launcher.bat
echo 复制到桌面，改名为“政务公开年报工具.bat”。
goto :failed

:failed
echo.
pause
exit /b 1
